// Quiz page: check one item at a time (feedback + link to the section), then record the score.
(function () {
  const form = document.getElementById("quiz");
  if (!form) return;
  const chapter = form.dataset.chapter;
  const results = {};

  function value(fs) {
    const type = fs.dataset.type, id = fs.dataset.id;
    if (type === "multiple") {
      return Array.from(fs.querySelectorAll(`input[name="${id}"]:checked`)).map((e) => Number(e.value));
    }
    if (type === "single") {
      const e = fs.querySelector(`input[name="${id}"]:checked`);
      return e ? Number(e.value) : null;
    }
    if (type === "truefalse") {
      const e = fs.querySelector(`input[name="${id}"]:checked`);
      return e ? e.value === "true" : null;
    }
    const text = fs.querySelector(`input[name="${id}"]`).value;
    if (type === "ordering") return text.split(/[,，\s]+/).filter(Boolean).map(Number);
    return text;
  }

  form.querySelectorAll(".quiz-item .check").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const fs = btn.closest(".quiz-item");
      const answer = value(fs);
      const fb = fs.querySelector(".feedback");
      if (answer === null) { fb.textContent = "请先作答"; return; }
      const r = await fetch(`/api/learn/quiz/${chapter}/answer`, {
        method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({item_id: fs.dataset.id, answer}),
      });
      const data = await r.json();
      results[fs.dataset.id] = data.correct;
      fb.className = "feedback " + (data.correct ? "correct" : "wrong");
      fb.textContent = (data.correct ? "✓ 正确。" : "✗ 错误。") + data.explanation + " ";
      const a = document.createElement("a");
      a.href = data.link; a.textContent = `复习 ${data.point}`;
      fb.appendChild(a);
    });
  });

  document.getElementById("finish").addEventListener("click", async () => {
    const score = Object.values(results).filter(Boolean).length;
    const r = await fetch(`/api/learn/quiz/${chapter}/finish`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({score}),
    });
    const data = await r.json();
    document.getElementById("score").textContent = `得分 ${score}/${form.dataset.total}`;
    const ul = document.getElementById("history");
    ul.innerHTML = "";
    data.history.forEach((h) => {
      const li = document.createElement("li");
      li.textContent = `${h.at.slice(0, 16).replace("T", " ")}：${h.score}/${h.total}`;
      ul.appendChild(li);
    });
  });
})();
