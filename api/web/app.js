// posid mobile scan page: photograph a terminal label (or type its SN),
// see the device record and seal verdict, file a complaint. No build step.
"use strict";
(() => {
  const API = "/api/v1";
  const MAX_SIDE = 2000;      // longest side of uploaded photos, px
  const JPEG_QUALITY = 0.85;
  const APP_VERSION = "web-1";
  const KEY_STORE = "posid.apiKey";
  const LANG_STORE = "posid.lang";

  const text = {
    zh: {
      signin_title: "登录", user_name: "用户名", password: "密码", signin: "登录", signout: "退出登录", signed_in_as: "已登录：",
      totp_code: "动态验证码或恢复码", need_code: "请输入验证器应用中的 6 位动态验证码（或一个恢复码）。",
      enrol_hint: "首次登录须绑定动态验证码：在身份验证器应用中添加以下密钥，然后输入应用显示的 6 位验证码。", enrol_open: "在验证器中打开",
      recovery_hint: "请保存以下恢复码，每个只能使用一次，只显示这一次：", saved_them: "我已保存", signing_in: "正在登录…",
      "p_sign-in-failed": "登录失败：用户名、密码或验证码不正确。", "p_sign-in-locked": "登录失败次数过多，请稍后再试。",
      "p_weak-password": "密码太弱：至少 10 个字符，不能是常见密码或用户名。",
      my_devices: "我的设备与变更申请", review_changes: "审核变更申请", open_console: "管理控制台",
      r_merchant: "商户", r_warehouse: "仓库", r_supplier: "供应商", r_reviewer: "审核员", r_admin: "管理员",
      title: "终端查验", key_label: "或使用 API 密钥", save: "保存", key_hint: "密钥只保存在本机浏览器中。",
      key_saved: "已保存密钥", change: "更换", take_photo: "拍摄终端标签", photo_hint: "对准机身背面的标签，保证条码清晰。",
      sn_placeholder: "或输入序列号 (SN)", lookup: "查询", report: "报告问题", category: "问题类型",
      cat_counterfeit: "疑似假冒", cat_damaged_label: "标签损坏", cat_wrong_registration: "入网信息有误", cat_other: "其他",
      description: "说明", photo_optional: "照片（可选）", submit: "提交", cancel: "取消", my_complaints: "我的投诉",
      need_key: "请先登录（或输入 API 密钥）。", preparing: "正在处理照片…", uploading: "正在识别…", looking_up: "正在查询…",
      sn: "序列号", model: "型号", manufacturer: "厂商", status: "状态", merchant: "商户", merchant_no: "商户号",
      terminal_id: "终端号", acquirer: "收单机构", branch: "开户网点", address: "地址", account: "结算账户",
      registered_at: "入网时间", access: "接入方式", codes: "条码", unknown: "未在登记库中找到此终端",
      v_genuine: "防伪验证通过", v_forged: "防伪标签伪造", v_revoked: "防伪密钥已吊销", v_malformed: "防伪码无法识别", v_withdrawn: "设备已停用（吊销或报废）", v_mismatch: "防伪码与标签序列号不符", v_none: "未发现防伪码", v_unchecked: "未扫描防伪码",
      s_provisioned: "已生产", s_shipped: "已发货", s_active: "已入网", s_suspended: "已暂停", s_retired: "已停用", s_revoked: "已吊销",
      c_open: "待处理", c_assigned: "处理中", c_resolved: "已处理", filed: "投诉已提交，编号", none_yet: "暂无投诉",
      failed: "请求失败", network: "网络错误，请重试。", mismatch: "防伪信息与登记不符",
    },
    en: {
      signin_title: "Sign in", user_name: "User name", password: "Password", signin: "Sign in", signout: "Sign out", signed_in_as: "Signed in as",
      totp_code: "Authenticator code or recovery code", need_code: "Enter the 6-digit code of your authenticator app (or a recovery code).",
      enrol_hint: "First sign-in: add this key to an authenticator app, then enter the 6-digit code it shows.", enrol_open: "Open in authenticator",
      recovery_hint: "Keep these recovery codes; each works once, and they are shown only now:", saved_them: "I saved them", signing_in: "Signing in…",
      "p_sign-in-failed": "Sign-in failed: wrong name, password or code.", "p_sign-in-locked": "Too many failed sign-ins; try again later.",
      "p_weak-password": "Password too weak: at least 10 characters, not a common password or the user name.",
      my_devices: "My devices and change requests", review_changes: "Review change requests", open_console: "Staff console",
      r_merchant: "Merchant", r_warehouse: "Warehouse", r_supplier: "Supplier", r_reviewer: "Reviewer", r_admin: "Admin",
      title: "Terminal check", key_label: "Or use an API key", save: "Save", key_hint: "The key is kept in this browser only.",
      key_saved: "Key saved", change: "Change", take_photo: "Photograph the label", photo_hint: "Aim at the label on the back; keep the barcodes sharp.",
      sn_placeholder: "or type the serial number (SN)", lookup: "Look up", report: "Report a problem", category: "Problem",
      cat_counterfeit: "Suspected counterfeit", cat_damaged_label: "Damaged label", cat_wrong_registration: "Wrong registration", cat_other: "Other",
      description: "Description", photo_optional: "Photo (optional)", submit: "Submit", cancel: "Cancel", my_complaints: "My complaints",
      need_key: "Sign in first (or enter an API key).", preparing: "Preparing photo…", uploading: "Reading barcodes…", looking_up: "Looking up…",
      sn: "SN", model: "Model", manufacturer: "Manufacturer", status: "Status", merchant: "Merchant", merchant_no: "Merchant no.",
      terminal_id: "Terminal ID", acquirer: "Acquirer", branch: "Bank branch", address: "Address", account: "Settlement account",
      registered_at: "Registered", access: "Network access", codes: "Barcodes", unknown: "This terminal is not in the registry",
      v_genuine: "Seal genuine", v_forged: "Seal FORGED", v_revoked: "Seal key revoked", v_malformed: "Seal unreadable", v_withdrawn: "Device withdrawn (revoked or retired)", v_mismatch: "Seal does not match the printed SN", v_none: "No seal found", v_unchecked: "Seal not checked",
      s_provisioned: "Provisioned", s_shipped: "Shipped", s_active: "Active", s_suspended: "Suspended", s_retired: "Retired", s_revoked: "Revoked",
      c_open: "Open", c_assigned: "In review", c_resolved: "Resolved", filed: "Complaint filed, number", none_yet: "No complaints yet",
      failed: "Request failed", network: "Network error, please retry.", mismatch: "Seal does not match the registry",
    },
  };

  const $ = (id) => document.getElementById(id);
  let lang = localStorage.getItem(LANG_STORE) || ((navigator.language || "zh").toLowerCase().startsWith("zh") ? "zh" : "en");
  let lastResult = null;
  const t = (k) => text[lang][k] ?? text.en[k] ?? k;

  function applyLang() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
    $("lang").textContent = lang === "zh" ? "EN" : "中文";
    if (me) $("who-role").textContent = t("r_" + me.role);
    document.title = "posid · " + t("title");
    if (lastResult) showResult(lastResult.body, lastResult.preview);
  }

  // --- session and API key ------------------------------------------------
  // A signed-in session lives in an HttpOnly cookie the page never sees;
  // its CSRF token (from sign-in or GET /me) is kept in memory and sent
  // with every change. An API key, for programs and old set-ups, is kept
  // in localStorage and sent as a bearer token instead.
  let me = null;      // the signed-in user, or null
  let csrf = "";
  const apiKey = () => localStorage.getItem(KEY_STORE) || "";
  const signedIn = () => !!me || !!apiKey();
  function showAuth() {
    const k = apiKey();
    $("signin-form").hidden = !!me || !!k;
    $("who").hidden = !me;
    $("key-section").hidden = !!me;
    $("key-form").hidden = !!k;
    $("key-saved").hidden = !k;
    // Show only the public key id (posid_ID_secret).
    $("key-id").textContent = k ? k.split("_").slice(0, 2).join("_") + "_…" : "";
    if (me) {
      $("who-name").textContent = me.name;
      $("who-role").textContent = t("r_" + me.role);
    }
    // The signed-in pages of the role: a merchant's devices, a reviewer's queue.
    const merchant = !!me && me.role === "merchant", reviewer = !!me && (me.role === "reviewer" || me.role === "admin");
    const staff = !!me && me.role !== "merchant";
    $("my-devices").hidden = !merchant;
    $("review-changes").hidden = !reviewer;
    $("open-console").hidden = !staff;
    $("who-pages").hidden = !merchant && !staff;
  }
  $("key-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const k = $("key").value.trim();
    if (k) localStorage.setItem(KEY_STORE, k);
    $("key").value = "";
    showAuth();
  });
  $("key-change").addEventListener("click", () => { localStorage.removeItem(KEY_STORE); showAuth(); $("key").focus(); });

  // nextPage is the page the sign-in form was opened for (?next=), when
  // it is a path on this site: one leading "/", never "//host", "/\host",
  // a scheme or a control character (the server's safeNext rule).
  function nextPage() {
    const next = new URLSearchParams(location.search).get("next") || "";
    if (next[0] !== "/" || next[1] === "/" || next[1] === "\\") return "";
    if (/[\u0000-\u001f\u007f\\]/.test(next)) return "";
    return next;
  }
  function goNext() {
    const next = nextPage();
    if (next) location.assign(next);
  }

  function signinStatus(msg, isError) {
    const el = $("signin-status");
    el.textContent = msg || "";
    el.classList.toggle("error", !!isError);
  }
  $("signin-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: $("si-name").value.trim(), password: $("si-password").value };
    const code = $("si-code").value.trim();
    if (code) body.code = code;
    try {
      signinStatus(t("signing_in"));
      $("signin").disabled = true;
      const res = await call("POST", "/session", body);
      signinStatus("");
      if (res.status === "totp_required" || res.status === "enrol_totp") {
        $("code-row").hidden = false;
        $("si-code").value = "";
        if (res.totp_enrolment) {
          $("enrol").hidden = false;
          $("enrol-secret").textContent = res.totp_enrolment.secret;
          $("enrol-link").href = res.totp_enrolment.otpauth_url;
        }
        signinStatus(t("need_code"));
        $("si-code").focus();
        return;
      }
      me = res.user;
      csrf = res.csrf_token;
      $("signin-form").reset();
      $("enrol").hidden = true;
      $("code-row").hidden = true;
      if (res.recovery_codes && res.recovery_codes.length) {
        const ul = $("recovery-codes");
        ul.replaceChildren(...res.recovery_codes.map((c) => { const li = document.createElement("li"); li.textContent = c; return li; }));
        $("recovery").hidden = false;
        showAuth();
        return; // goes to ?next= once the codes are saved
      }
      showAuth();
      goNext();
    } catch (e) {
      signinStatus(e.message, true);
    } finally {
      $("signin").disabled = false;
    }
  });
  $("recovery-done").addEventListener("click", () => { $("recovery").hidden = true; $("recovery-codes").replaceChildren(); goNext(); });
  $("signout").addEventListener("click", async () => {
    try { await call("DELETE", "/session"); } catch (e) { /* the session may be gone already */ }
    me = null; csrf = "";
    showAuth();
  });

  // loadMe asks who the session cookie belongs to, if there is one.
  async function loadMe() {
    try {
      const res = await fetch(API + "/me", { headers: { "Accept": "application/json" }, credentials: "same-origin" });
      if (!res.ok) return;
      const body = await res.json();
      if (body.user) { me = body.user; csrf = body.csrf_token || ""; }
    } catch (e) { /* offline: stay signed out */ }
    showAuth();
  }

  // --- requests ----------------------------------------------------------
  async function call(method, path, body) {
    const headers = { "X-App-Version": APP_VERSION, "Accept": "application/json" };
    if (apiKey() && !me) headers["Authorization"] = "Bearer " + apiKey();
    if (me && csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (body && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, { method, headers, body, credentials: "same-origin" });
    } catch (e) {
      throw new Error(t("network"));
    }
    const data = await res.json().catch(() => ({}));
    if (res.status === 401 && me && path !== "/session") { me = null; csrf = ""; showAuth(); }
    if (!res.ok) {
      const known = "p_" + String(data.type || "").split("/").pop();
      throw new Error(text[lang][known] ? t(known) : data.detail || data.title || t("failed") + " (" + res.status + ")");
    }
    return data;
  }

  function status(msg, isError) {
    const el = $("status");
    el.hidden = !msg;
    el.textContent = msg || "";
    el.classList.toggle("error", !!isError);
  }

  function needKey() {
    if (signedIn()) return false;
    status(t("need_key"), true);
    $("si-name").focus();
    return true;
  }

  // downscale returns the photo as a JPEG no larger than MAX_SIDE on its
  // longest side; orientation from EXIF is applied by the browser.
  async function downscale(file) {
    let src;
    try {
      src = await createImageBitmap(file, { imageOrientation: "from-image" });
    } catch (e) {
      src = await new Promise((ok, fail) => {
        const img = new Image();
        img.onload = () => ok(img);
        img.onerror = () => fail(new Error(t("failed")));
        img.src = URL.createObjectURL(file);
      });
    }
    const w = src.width, h = src.height;
    const f = Math.min(1, MAX_SIDE / Math.max(w, h));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(w * f);
    canvas.height = Math.round(h * f);
    const ctx = canvas.getContext("2d");
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(src, 0, 0, canvas.width, canvas.height);
    return new Promise((ok) => canvas.toBlob(ok, "image/jpeg", JPEG_QUALITY));
  }

  // --- scan and lookup ----------------------------------------------------
  $("photo").addEventListener("change", async (ev) => {
    const file = ev.target.files && ev.target.files[0];
    ev.target.value = "";
    if (!file || needKey()) return;
    try {
      status(t("preparing"));
      const jpeg = await downscale(file);
      const form = new FormData();
      form.append("image", jpeg, "label.jpg");
      form.append("app_version", APP_VERSION);
      status(t("uploading"));
      const body = await call("POST", "/scans", form);
      status("");
      showResult(body, URL.createObjectURL(jpeg));
    } catch (e) {
      status(e.message, true);
    }
  });

  $("sn-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const sn = $("sn").value.trim();
    if (!sn || needKey()) return;
    try {
      status(t("looking_up"));
      const body = await call("POST", "/scans", { sn });
      status("");
      showResult(body, null);
    } catch (e) {
      status(e.message, true);
    }
  });

  const verdictClass = { genuine: "ok", forged: "bad", revoked: "bad", withdrawn: "bad", mismatch: "bad", malformed: "warn" };
  const statusClass = { active: "ok", shipped: "ok", provisioned: "ok", suspended: "warn", retired: "warn", revoked: "bad" };

  // showResult shows a scan or lookup. preview is the object URL of the
  // uploaded photo, or null for a typed SN: then the photo of an earlier
  // scan is dropped and the seal is "not checked" (nothing was scanned),
  // not "missing".
  function showResult(body, preview) {
    if (lastResult && lastResult.preview && lastResult.preview !== preview) URL.revokeObjectURL(lastResult.preview);
    lastResult = { body, preview };
    const dev = body.device || null;
    const sn = body.sn || (dev && dev.sn) || "";
    const verdict = body.seal && body.seal.verdict;
    const v = $("verdict");
    v.textContent = t(verdict ? "v_" + verdict : preview ? "v_none" : "v_unchecked");
    v.className = "badge " + (verdictClass[verdict] || (preview ? "" : "neutral"));
    const ds = $("device-status");
    ds.textContent = dev ? t("s_" + dev.status) : t("unknown");
    ds.className = "badge " + (dev ? statusClass[dev.status] || "" : "warn");
    $("seal-match").textContent = body.seal && body.seal.matches_registry === false ? t("mismatch") : "";

    const dl = $("fields");
    dl.replaceChildren();
    const add = (k, val, cls) => {
      if (val === undefined || val === null || val === "") return;
      const dt = document.createElement("dt"); dt.textContent = t(k);
      const dd = document.createElement("dd"); dd.textContent = val;
      if (cls) dd.className = cls;
      dl.append(dt, dd);
    };
    add("sn", sn, "sn");
    if (dev) {
      add("model", dev.model);
      add("manufacturer", dev.manufacturer);
      const r = dev.registration;
      if (r) {
        add("merchant", r.merchant_name);
        add("merchant_no", r.merchant_no);
        add("terminal_id", r.terminal_id);
        add("acquirer", r.acquirer);
        add("branch", r.branch_name);
        add("address", r.branch_address);
        add("account", r.account);
        add("access", r.access);
        if (r.registered_at) add("registered_at", new Date(r.registered_at).toLocaleDateString(lang === "zh" ? "zh-CN" : "en"));
      }
    }
    if (Array.isArray(body.codes) && body.codes.length) {
      add("codes", body.codes.map((c) => c.format).join(", "));
    }
    const img = $("preview");
    img.hidden = !preview;
    if (preview) img.src = preview;
    else img.removeAttribute("src");
    $("result").hidden = false;
    $("c-sn").value = sn;
  }

  // --- complaints -----------------------------------------------------------
  $("complain-open").addEventListener("click", () => { $("complaint").hidden = false; $("c-text").focus(); });
  $("complaint-cancel").addEventListener("click", () => { $("complaint").hidden = true; });
  $("complaint-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (needKey()) return;
    const form = new FormData();
    form.append("sn", $("c-sn").value.trim());
    form.append("category", $("c-category").value);
    form.append("text", $("c-text").value.trim());
    try {
      const file = $("c-photo").files[0];
      if (file) form.append("photo", await downscale(file), "photo.jpg");
      const c = await call("POST", "/complaints", form);
      $("complaint").hidden = true;
      $("complaint-form").reset();
      status(t("filed") + " " + c.id);
      loadComplaints();
    } catch (e) {
      status(e.message, true);
    }
  });

  async function loadComplaints() {
    if (needKey()) return;
    const ul = $("complaints");
    try {
      const body = await call("GET", "/complaints");
      const list = Array.isArray(body) ? body : body.complaints || [];
      ul.replaceChildren();
      if (!list.length) {
        const li = document.createElement("li"); li.textContent = t("none_yet"); ul.append(li);
      }
      for (const c of list) {
        const li = document.createElement("li");
        li.textContent = "#" + c.id + " · " + c.sn + " · " + t("cat_" + c.category) + " · " + t("c_" + c.status);
        ul.append(li);
      }
    } catch (e) {
      status(e.message, true);
    }
  }
  $("mine").addEventListener("click", loadComplaints);

  $("lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem(LANG_STORE, lang);
    applyLang();
  });

  showAuth();
  applyLang();
  loadMe();
})();
