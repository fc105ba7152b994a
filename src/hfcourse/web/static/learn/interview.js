// Interview practice: reveal the reference answer and rubric, then self-score 0/60/80/100.
(function () {
  const root = document.getElementById("interview");
  if (!root) return;
  const id = root.dataset.id;
  document.getElementById("iv-reveal").addEventListener("click", async () => {
    const data = await (await fetch(`/api/learn/interview/${id}/reference`)).json();
    const box = document.getElementById("iv-reference");
    box.innerHTML = "";
    const add = (tag, text) => { const e = document.createElement(tag); e.textContent = text; box.appendChild(e); return e; };
    add("h2", "参考答案");
    add("p", data.answer);
    add("h2", "评分标准");
    Object.entries(data.rubric).forEach(([k, v]) => add("p", `${k} 分：${v}`));
    if (data.followups.length) { add("h2", "追问"); data.followups.forEach((f) => add("p", f)); }
    if (data.source.length) { add("h2", "源码"); data.source.forEach((s) => add("p", `${s.path}:${s.line}（${s.anchor.split("::")[1]}）`)); }
    box.hidden = false;
    document.getElementById("iv-scoring").hidden = false;
  });
  document.querySelectorAll(".iv-score").forEach((b) => b.addEventListener("click", async () => {
    const r = await fetch(`/api/learn/interview/${id}/score`, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({score: Number(b.dataset.score), answer: document.getElementById("iv-answer").value}),
    });
    const data = await r.json();
    document.getElementById("iv-status").textContent = `已记录自评 ${data.score}，下次复习：${data.next_review.slice(0, 16).replace("T", " ")}`;
  }));
})();
