// posid change request pages: the merchant's device page, "My requests"
// and the reviewer's list. Forms with data-api post to the JSON API; the
// session's CSRF token (<meta name="csrf-token">, when signed in) goes in
// X-CSRF-Token, and the API key the scan page saved, if any, in
// Authorization. No framework, no build step.
(function () {
  "use strict";
  const KEY_STORE = "posid.apiKey";
  const meta = document.querySelector('meta[name="csrf-token"]');

  function headers(json) {
    const h = { "Accept": "application/json" };
    if (meta && meta.content) h["X-CSRF-Token"] = meta.content;
    let key = "";
    try { key = localStorage.getItem(KEY_STORE) || ""; } catch (e) { /* storage off */ }
    if (key) h["Authorization"] = "Bearer " + key;
    if (json) h["Content-Type"] = "application/json";
    return h;
  }

  async function problemText(res) {
    try {
      const p = await res.json();
      return (p.title || res.status) + (p.detail ? ": " + p.detail : "");
    } catch (e) {
      return "HTTP " + res.status;
    }
  }

  // body builds the request body of form: multipart when a photo is
  // attached, JSON otherwise.
  function body(form) {
    if (form.dataset.kind === "file") {
      const photo = form.querySelector("input[type=file]");
      if (photo && photo.files.length) return { body: new FormData(form), json: false };
      const o = {};
      for (const [k, v] of new FormData(form)) if (k !== "photo") o[k] = v;
      return { body: JSON.stringify(o), json: true };
    }
    const note = form.querySelector("[name=note]");
    if (note) return { body: JSON.stringify({ note: note.value }), json: true };
    return { body: undefined, json: false };
  }

  async function send(form) {
    const status = form.querySelector(".status");
    const button = form.querySelector("button[type=submit]");
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    const b = body(form);
    status.classList.remove("error");
    status.textContent = "…";
    button.disabled = true;
    try {
      const res = await fetch(form.dataset.api, { method: "POST", headers: headers(b.json), body: b.body, credentials: "same-origin" });
      if (!res.ok) {
        status.textContent = await problemText(res);
        status.classList.add("error");
        return;
      }
      status.textContent = "已提交 Done";
      window.location.reload();
    } catch (e) {
      status.textContent = "网络错误 Network error: " + e.message;
      status.classList.add("error");
    } finally {
      button.disabled = false;
    }
  }

  document.querySelectorAll("form[data-api]").forEach((f) => {
    f.addEventListener("submit", (ev) => { ev.preventDefault(); send(f); });
  });

  // The branch address is asked only for the branch field.
  const field = document.getElementById("field");
  const addr = document.getElementById("address-row");
  if (field && addr) {
    const show = () => { addr.hidden = field.value !== "branch"; };
    field.addEventListener("change", show);
    show();
  }

  // Photos are fetched with the same headers and shown as blob: images.
  document.querySelectorAll("button[data-photo]").forEach((btn) => {
    btn.addEventListener("click", async () => {
      const res = await fetch(btn.dataset.photo, { headers: headers(false), credentials: "same-origin" });
      if (!res.ok) { btn.textContent = await problemText(res); return; }
      const img = document.createElement("img");
      img.className = "photo";
      img.alt = "";
      img.src = URL.createObjectURL(await res.blob());
      btn.replaceWith(img);
    });
  });
})();
