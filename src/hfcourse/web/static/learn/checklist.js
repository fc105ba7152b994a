// Self-test checklists: each tick is saved; the per-list progress comes back from the server.
(function () {
  document.querySelectorAll("input.ck").forEach((box) => box.addEventListener("change", async () => {
    const r = await fetch(`/api/learn/checklist/${box.dataset.id}`, {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({done: box.checked}),
    });
    const data = await r.json();
    Object.entries(data.progress).forEach(([id, [n, total]]) => {
      const el = document.getElementById(`progress-${id}`);
      if (el) el.textContent = `${n}/${total}`;
    });
  }));
})();
