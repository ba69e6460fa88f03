// "Charge a session": a CSV file chosen here is read in the browser into the lines box, so the server gets the same
// text a person could have pasted (and checks it the same way). Without this script the picker stays hidden.
(() => {
  const picker = document.getElementById("file-picker");
  const input = document.getElementById("rows-file");
  const rows = document.getElementById("rows");
  const message = document.getElementById("file-message");
  if (!picker || !input || !rows) return;
  const MAX_BYTES = 64 * 1024; // 500 lines fit easily; the form's body is bounded too
  picker.hidden = false;
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) return;
    if (file.size > MAX_BYTES) {
      message.textContent = `That file is too large (${Math.ceil(file.size / 1024)} KB; at most 64 KB).`;
      return;
    }
    rows.value = (await file.text()).replace(/^\uFEFF/, "");
    message.textContent = `Loaded ${file.name}. Check the lines, then Preview.`;
  });
})();
