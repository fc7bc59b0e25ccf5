// posid console: the few actions of the console pages, each a call to the
// JSON API (the same service layer as every other client). The caller is
// the page's own: its session cookie or whatever the server authenticated
// the page with; a CSRF token in <meta name="csrf-token"> goes with every
// state-changing request. No build step, no dependencies.
"use strict";
(function () {
  var FLASH = "posid.console.flash";

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function flash(text, isError) {
    var el = document.getElementById("flash");
    if (!el) return;
    el.textContent = text;
    el.classList.toggle("error", !!isError);
    el.hidden = false;
    if (isError) el.setAttribute("role", "alert");
  }

  // send posts body (an object, or null for none) to path and resolves
  // with the JSON answer; a problem+json answer rejects with its detail.
  function send(path, body, method) {
    var headers = { "Accept": "application/json" };
    var token = csrf();
    if (token) headers["X-CSRF-Token"] = token;
    var init = { method: method || "POST", headers: headers, credentials: "same-origin" };
    if (body !== null) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (resp) {
      return resp.text().then(function (text) {
        var data = {};
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = { detail: text }; }
        if (!resp.ok) throw new Error((data.title || resp.status) + (data.detail ? ": " + data.detail : ""));
        return data;
      });
    });
  }

  // reloadWith reloads the page and shows text once it is back.
  function reloadWith(text) {
    try { sessionStorage.setItem(FLASH, text); } catch (e) { /* private mode */ }
    location.reload();
  }

  function busy(el, on) {
    el.disabled = on;
    el.setAttribute("aria-busy", on ? "true" : "false");
  }

  function onMove(btn) {
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    busy(btn, true);
    send("/api/v1/devices/" + encodeURIComponent(btn.dataset.sn) + "/status", { status: btn.dataset.move })
      .then(function () { reloadWith(btn.textContent.trim() + " ✓"); })
      .catch(function (err) { busy(btn, false); flash(err.message, true); });
  }

  function onPost(btn) {
    if (btn.dataset.confirm && !window.confirm(btn.dataset.confirm)) return;
    busy(btn, true);
    var del = !btn.dataset.post;
    send(del ? btn.dataset.delete : btn.dataset.post, null, del ? "DELETE" : "POST")
      .then(function () { reloadWith(btn.textContent.trim() + " ✓"); })
      .catch(function (err) { busy(btn, false); flash(err.message, true); });
  }

  function onForm(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled) return;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) return;
      // A password is sent as typed: its spaces are part of it.
      var v = el.type === "password" ? el.value : el.value.trim();
      if (v !== "") body[el.name] = el.dataset.number ? Number(v) : v;
    });
    var submit = form.querySelector('[type="submit"]');
    if (submit) busy(submit, true);
    send(form.dataset.action, body).then(function (data) {
      // data-show-token names the answer's field to show once: "1" for an
      // API key's token, "password" for a new user's first password.
      var field = form.dataset.showToken === "1" ? "token" : form.dataset.showToken;
      if (field && data[field]) {
        var box = document.getElementById("token-box");
        var out = document.getElementById("token");
        out.value = data[field];
        box.hidden = false;
        flash(form.dataset.done, false);
        form.reset();
        if (submit) busy(submit, false);
        out.focus();
        out.select();
        return;
      }
      reloadWith(form.dataset.done);
    }).catch(function (err) {
      if (submit) busy(submit, false);
      flash(err.message, true);
    });
  }

  // onSignOut ends the session and goes to the sign-in form.
  function onSignOut(btn) {
    busy(btn, true);
    send(btn.dataset.signout, null, "DELETE")
      .then(function () { location.assign("/"); })
      .catch(function (err) { busy(btn, false); flash(err.message, true); });
  }

  document.addEventListener("click", function (ev) {
    var out = ev.target.closest("button[data-signout]");
    if (out) { ev.preventDefault(); onSignOut(out); return; }
    var btn = ev.target.closest("button[data-move], button[data-post], button[data-delete]");
    if (!btn) return;
    ev.preventDefault();
    if (btn.dataset.move) onMove(btn); else onPost(btn);
  });

  // A field with data-same-as must repeat the field it names (a new
  // password typed twice): until it does, the browser refuses the form
  // with the field's data-mismatch text.
  document.addEventListener("input", function (ev) {
    var form = ev.target.form;
    if (!form) return;
    Array.prototype.forEach.call(form.querySelectorAll("[data-same-as]"), function (again) {
      var first = document.getElementById(again.dataset.sameAs);
      again.setCustomValidity(first && again.value !== first.value ? again.dataset.mismatch : "");
    });
  });

  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList || !form.classList.contains("api-form")) return;
    ev.preventDefault();
    onForm(form);
  });

  // onScanPhoto sends the photo of a label to the scan API (the same
  // decoder and SN rules as the scan page) and opens the device it names.
  function onScanPhoto(input) {
    var file = input.files && input.files[0];
    if (!file) return;
    var fd = new FormData();
    fd.append("image", file);
    var headers = { "Accept": "application/json" };
    var token = csrf();
    if (token) headers["X-CSRF-Token"] = token;
    busy(input, true);
    flash(input.dataset.scanning, false);
    fetch("/api/v1/scans", { method: "POST", headers: headers, body: fd, credentials: "same-origin" })
      .then(function (resp) {
        return resp.json().catch(function () { return {}; }).then(function (data) {
          if (!resp.ok) throw new Error((data.title || resp.status) + (data.detail ? ": " + data.detail : ""));
          if (!data.sn) throw new Error(input.dataset.noSn);
          location.assign(input.dataset.scanTo + encodeURIComponent(data.sn));
        });
      })
      .catch(function (err) { busy(input, false); input.value = ""; flash(err.message, true); });
  }

  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (input.dataset && input.dataset.scanTo) onScanPhoto(input);
  });

  document.addEventListener("DOMContentLoaded", function () {
    var text = null;
    try { text = sessionStorage.getItem(FLASH); sessionStorage.removeItem(FLASH); } catch (e) { /* private mode */ }
    if (text) flash(text, false);
  });
})();
