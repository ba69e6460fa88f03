// Settlement screen: "select all" ticks every club shown. The server checks every amount again.
(() => {
  const all = document.getElementById("select-all");
  all?.addEventListener("change", () => {
    for (const box of document.querySelectorAll(".settle-box")) box.checked = all.checked;
  });
})();
