// posid console, labels page: preview the first labels of the picked
// devices as PNG, download them as PDF or ZPL (POST /api/v1/labels), or
// send them to a printer (POST /api/v1/printers/NAME/jobs). Every call
// goes through the JSON API with the page's CSRF token.
"use strict";
(function () {
  var job = document.getElementById("label-job");
  if (!job) return;
  var T = job.dataset;
  var $ = function (id) { return document.getElementById(id); };
  var sns = Array.prototype.map.call(document.querySelectorAll("#l-picked [data-sn]"), function (li) { return li.dataset.sn; });
  if (!sns.length) return;

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function flash(text, isError) {
    var el = $("flash");
    el.textContent = text;
    el.classList.toggle("error", !!isError);
    el.setAttribute("role", isError ? "alert" : "status");
    el.hidden = !text;
  }

  function fmt(s, vals) {
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vals[k] === undefined ? "" : String(vals[k]); });
  }

  // selection is the picked devices as the API takes them: the batch
  // when a whole batch was picked, else the SNs (only the first n).
  function selection(n) {
    if (T.batch && !n) return { batch: T.batch };
    return { sns: n ? sns.slice(0, n) : sns };
  }

  // post sends body as JSON to path and resolves with the response, or
  // rejects with the problem's title and detail.
  function post(path, body) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json, application/pdf, image/png, application/zpl, */*" };
    if (csrf()) headers["X-CSRF-Token"] = csrf();
    return fetch(path, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" }).then(function (resp) {
      if (resp.ok) return resp;
      return resp.text().then(function (text) {
        var d = {};
        try { d = JSON.parse(text); } catch (e) { d = { detail: text }; }
        throw new Error((d.title || resp.status) + (d.detail ? ": " + d.detail : ""));
      });
    });
  }

  function labelBody(format, n) {
    var b = selection(n);
    b.format = format;
    b.size = $("l-size").value;
    b.dpi = Number($("l-dpi").value);
    return b;
  }

  function busy(btn, on) {
    btn.disabled = on;
    btn.setAttribute("aria-busy", on ? "true" : "false");
  }

  $("l-preview").addEventListener("click", function () {
    var btn = $("l-preview");
    busy(btn, true);
    flash(T.tPreviewing, false);
    post("/api/v1/labels", labelBody("png", Number(T.preview) || 4)).then(function (resp) { return resp.blob(); }).then(function (blob) {
      var reader = new FileReader();
      reader.onload = function () {
        var img = document.createElement("img");
        img.src = reader.result; // a data: URL, which the page's CSP admits
        img.alt = fmt(T.tAlt, { sns: sns.slice(0, Number(T.preview) || 4).join(", ") });
        img.id = "l-preview-img";
        $("l-previews").replaceChildren(img);
        flash("", false);
        busy(btn, false);
      };
      reader.readAsDataURL(blob);
    }).catch(function (err) { busy(btn, false); flash(err.message, true); });
  });

  ["l-pdf", "l-zpl"].forEach(function (id) {
    $(id).addEventListener("click", function () {
      var btn = $(id), format = btn.dataset.format;
      busy(btn, true);
      post("/api/v1/labels", labelBody(format, 0)).then(function (resp) { return resp.blob(); }).then(function (blob) {
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = "labels." + format;
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        busy(btn, false);
        flash(T.tReady, false);
      }).catch(function (err) { busy(btn, false); flash(err.message, true); });
    });
  });

  var send = $("l-send");
  if (send) {
    send.addEventListener("click", function () {
      busy(send, true);
      var body = selection(0);
      body.size = $("l-size").value;
      var name = $("l-printer").value;
      post("/api/v1/printers/" + encodeURIComponent(name) + "/jobs", body).then(function (resp) { return resp.json(); }).then(function (j) {
        busy(send, false);
        var text = fmt(T.tPrinted, { n: (j.sns || []).length, printer: j.printer, id: j.id });
        if (j.reprint) text += " " + fmt(T.tReprints, { n: j.reprints });
        $("l-job").textContent = text;
        flash(text, false);
      }).catch(function (err) { busy(send, false); flash(err.message, true); });
    });
  }
})();
