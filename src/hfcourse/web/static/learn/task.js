// Coding task editor: Tab inserts spaces; "run" grades in the sandbox and lists per-test results.
(function () {
  const form = document.getElementById("task");
  if (!form) return;
  const code = document.getElementById("code");
  code.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    e.preventDefault();
    const s = code.selectionStart, t = code.selectionEnd;
    code.value = code.value.slice(0, s) + "    " + code.value.slice(t);
    code.selectionStart = code.selectionEnd = s + 4;
  });
  document.getElementById("run").addEventListener("click", async () => {
    const status = document.getElementById("status");
    status.textContent = "运行中……";
    const r = await fetch(`/api/learn/tasks/${form.dataset.id}/grade`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({code: code.value}),
    });
    const data = await r.json();
    if (!r.ok) { status.textContent = data.error || "出错"; return; }
    const passed = data.tests.filter((t) => t.passed).length;
    status.textContent = `${data.verdict === "passed" ? "全部通过" : "未通过"}：${passed}/${data.tests.length}（${data.seconds} 秒）`;
    status.dataset.verdict = data.verdict;
    document.getElementById("best").textContent = `${Math.round(data.best * 100)}%`;
    const ul = document.getElementById("results");
    ul.innerHTML = "";
    data.tests.forEach((t) => {
      const li = document.createElement("li");
      li.className = t.passed ? "pass" : "fail";
      li.textContent = `${t.passed ? "✓" : "✗"} ${t.name}${t.passed ? "" : "：" + t.message}`;
      ul.appendChild(li);
    });
  });
})();
