// Settlement screen: "select all" ticks every club shown that can be paid (a disabled box stays as it is). The
// server checks every amount again.
(() => {
  const all = document.getElementById("select-all");
  all?.addEventListener("change", () => {
    for (const box of document.querySelectorAll(".settle-box:not(:disabled)")) box.checked = all.checked;
  });
})();
