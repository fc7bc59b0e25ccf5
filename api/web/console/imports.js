// posid console, imports page: upload a CSV or XLSX file, check it with a
// dry run (POST /api/v1/imports?dry_run=1), map unknown headers to posid
// columns, then import it for real (all rows or none). Every call goes
// through the JSON API with the page's CSRF token.
"use strict";
(function () {
  var form = document.getElementById("import-form");
  if (!form) return;
  var T = form.dataset;
  var columns = (T.columns || "").split(" ");
  var $ = function (id) { return document.getElementById(id); };
  var mapping = {}; // unknown header → posid column ("" ignores it)

  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }

  function fmt(s, vals) {
    return s.replace(/\{(\w+)\}/g, function (_, k) { return vals[k] === undefined ? "" : String(vals[k]); });
  }

  function query(dryRun) {
    var q = new URLSearchParams();
    q.set("mode", $("imp-mode").value);
    if (dryRun) q.set("dry_run", "1");
    var m = Object.keys(mapping).filter(function (h) { return mapping[h]; })
      .map(function (h) { return h.replace(/,/g, " ") + ":" + mapping[h]; });
    if (m.length) q.set("map", m.join(","));
    return "/api/v1/imports?" + q.toString();
  }

  // upload posts the chosen file and resolves with {status, data}.
  function upload(dryRun) {
    var file = $("imp-file").files[0];
    if (!file) return Promise.reject(new Error(T.tNofile));
    var body = new FormData();
    body.append("file", file, file.name);
    var headers = { "Accept": "application/json" };
    if (csrf()) headers["X-CSRF-Token"] = csrf();
    return fetch(query(dryRun), { method: "POST", headers: headers, body: body, credentials: "same-origin" })
      .then(function (resp) {
        return resp.text().then(function (text) {
          var data = {};
          try { data = text ? JSON.parse(text) : {}; } catch (e) { data = { detail: text }; }
          return { status: resp.status, data: data };
        });
      });
  }

  function flash(text, isError) {
    var el = $("flash");
    el.textContent = text;
    el.classList.toggle("error", !!isError);
    el.setAttribute("role", isError ? "alert" : "status");
    el.hidden = !text;
  }

  function busy(btn, on, text) {
    btn.disabled = on;
    btn.setAttribute("aria-busy", on ? "true" : "false");
    if (on && text) flash(text, false);
  }

  // columnText names the columns of a row error as the server gives
  // them: "account", or "account (结算账号)" when the file's header
  // calls the column otherwise.
  function columnText(cols) {
    return (cols || []).map(function (c) {
      return c.header ? c.name + " (" + c.header + ")" : c.name;
    }).join(", ");
  }

  // showErrors lists the bad rows, one table row each: line, SN, the
  // columns at fault and every problem of the row on a line of its own.
  function showErrors(rows, more) {
    var tbody = $("imp-errors").tBodies[0];
    tbody.replaceChildren();
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = String(r.line);
      tr.appendChild(th);
      [r.sn || "", columnText(r.columns)].forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = v;
        tr.appendChild(td);
      });
      var msgs = document.createElement("td");
      String(r.reason).split("; ").forEach(function (msg) {
        var div = document.createElement("div");
        div.textContent = msg;
        msgs.appendChild(div);
      });
      tr.appendChild(msgs);
      tbody.appendChild(tr);
    });
    $("imp-errors-wrap").hidden = rows.length === 0;
    return rows.length + (more || 0);
  }

  // showMap offers a select of posid columns for each unknown header.
  function showMap(headers) {
    var box = $("imp-map-fields");
    box.replaceChildren();
    headers.forEach(function (h, i) {
      var div = document.createElement("div");
      div.className = "field";
      var label = document.createElement("label");
      label.htmlFor = "map-" + i;
      label.textContent = fmt(T.tUnknown, { header: h });
      var sel = document.createElement("select");
      sel.id = "map-" + i;
      sel.dataset.header = h;
      var none = document.createElement("option");
      none.value = "";
      none.textContent = T.tIgnore;
      sel.appendChild(none);
      columns.forEach(function (c) {
        var o = document.createElement("option");
        o.value = c;
        o.textContent = c;
        if (mapping[h] === c) o.selected = true;
        sel.appendChild(o);
      });
      div.appendChild(label);
      div.appendChild(sel);
      box.appendChild(div);
    });
    $("imp-map").hidden = headers.length === 0;
  }

  function unknownHeaders(detail) {
    var out = [], re = /unknown column "([^"]*)"/g, m;
    while ((m = re.exec(detail || "")) !== null) out.push(m[1]);
    return out;
  }

  function check(btn) {
    busy(btn, true, T.tChecking);
    $("imp-result").hidden = true;
    $("imp-commit").hidden = true;
    upload(true).then(function (r) {
      busy(btn, false);
      var d = r.data;
      var unknown = unknownHeaders(d.detail);
      if (unknown.length) {
        unknown.forEach(function (h) { if (!(h in mapping)) mapping[h] = ""; });
        showMap(Object.keys(mapping));
        $("imp-preview").hidden = true;
        flash(d.detail, true);
        $("map-0") && $("map-0").focus();
        return;
      }
      $("imp-preview").hidden = false;
      if (r.status === 200) {
        showErrors([], 0);
        $("imp-summary").textContent = fmt(T.tOk, d);
        $("imp-commit").hidden = false;
        flash("", false);
        $("imp-commit").focus();
        return;
      }
      var n = showErrors(d.errors || [], d.more_errors);
      $("imp-summary").textContent = d.errors ? fmt(T.tBad, { n: n }) + (d.more_errors ? " " + fmt(T.tMore, { n: d.more_errors }) : "") : (d.title || r.status) + ": " + (d.detail || "");
      flash($("imp-summary").textContent, true);
    }).catch(function (err) { busy(btn, false); flash(err.message, true); });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    mapping = {};
    $("imp-map").hidden = true;
    check($("imp-check"));
  });
  $("imp-recheck").addEventListener("click", function () {
    Array.prototype.forEach.call($("imp-map-fields").querySelectorAll("select"), function (sel) {
      mapping[sel.dataset.header] = sel.value;
    });
    check($("imp-recheck"));
  });
  $("imp-commit").addEventListener("click", function () {
    var btn = $("imp-commit");
    busy(btn, true, T.tImporting);
    upload(false).then(function (r) {
      busy(btn, false);
      if (r.status === 200 || r.status === 201) {
        btn.hidden = true;
        $("imp-result").hidden = false;
        $("imp-result-text").textContent = fmt(T.tDone, r.data);
        flash($("imp-result-text").textContent, false);
        return;
      }
      var n = showErrors(r.data.errors || [], r.data.more_errors);
      $("imp-summary").textContent = r.data.errors ? fmt(T.tBad, { n: n }) : (r.data.title || r.status) + ": " + (r.data.detail || "");
      flash($("imp-summary").textContent, true);
    }).catch(function (err) { busy(btn, false); flash(err.message, true); });
  });
})();
