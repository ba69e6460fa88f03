// Member transfer page: live member search (signed-in JSON endpoint) and the recent-people shortcut both fill the
// hidden recipient field. The server checks everything again.
(() => {
  const to = document.getElementById("to");
  const chosen = document.getElementById("chosen");
  const search = document.getElementById("search");
  const results = document.getElementById("search-results");
  const recent = document.getElementById("recent");
  const form = document.getElementById("transfer-form");
  if (!to || !search) return;

  const choose = (id, label) => {
    to.value = id;
    chosen.textContent = "";
    const strong = document.createElement("strong");
    strong.textContent = label;
    chosen.append("To: ", strong);
    results.replaceChildren();
  };

  let timer = null;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const q = search.value.trim();
      if (q.length < 2) {
        results.replaceChildren();
        return;
      }
      const res = await fetch(`/payments/member-search?q=${encodeURIComponent(q)}`, { headers: { Accept: "application/json" } });
      const people = res.ok ? await res.json() : [];
      results.replaceChildren(
        ...people.map((p) => {
          const b = document.createElement("button");
          b.type = "button";
          b.className = "list-group-item list-group-item-action";
          b.setAttribute("role", "option");
          b.textContent = `${p.name} (${p.systemNumber})`;
          b.addEventListener("click", () => choose(p.id, b.textContent));
          return b;
        }),
      );
      if (people.length === 0) {
        const none = document.createElement("div");
        none.className = "list-group-item text-muted";
        none.textContent = "No member found.";
        results.append(none);
      }
    }, 200);
  });
  recent?.addEventListener("change", () => {
    const opt = recent.selectedOptions[0];
    if (opt?.value) choose(opt.value, opt.dataset.name);
  });
  form.addEventListener("submit", () => {
    document.getElementById("transfer").disabled = true; // one click, one transfer
  });
})();
