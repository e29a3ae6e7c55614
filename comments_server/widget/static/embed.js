/* blogengine comment widget: one plain classic script, no dependencies, no third-party requests.

     <section id="comments" data-thread="/2024/05/a-post/"></section>
     <script src="https://comments.example.com/embed.js" defer data-lang="fr"></script>

   Settings (data- attributes of this script tag, all optional): data-server (default: where this
   script comes from), data-lang (default: the page's lang), data-timezone (the site's, for dates;
   default UTC), data-target (default: #comments), data-max-depth (the server's DISPLAY_DEPTH,
   default 5), data-honeypot (HONEYPOT_FIELD).
   It renders the thread into the target, taking over the comments and form baked into the page
   with the same markup (themes/default/templates/partials/comment.html), and fills every
   .comment-count[data-thread] on the page from one /api/counts request.
   Reader text only ever goes in with textContent; only the server's sanitised body_html uses innerHTML.

   Sections: strings, formatting (pure functions, exported to Node for tests/js/), settings,
   helpers and API, counts, the conversation (rendering), forms, start. */
(function () {
  "use strict";

  // --- strings -------------------------------------------------------------------------------

  // Every language's catalogue (comments_server/strings/<language>.json), put in by the comment
  // server when it serves this file: the same strings the theme and the no-JavaScript form use.
  var STRINGS = {/* @strings */};

  // --- formatting: pure functions --------------------------------------------------------------

  // The strings for a language tag ("fr-CA" reads fr), each missing one in English.
  function catalogueFor(catalogues, tag) {
    var lower = String(tag || "").toLowerCase().replace(/_/g, "-");
    var own = catalogues[lower] || catalogues[lower.split("-")[0]] || {}, all = {}, key;
    for (key in catalogues.en) all[key] = catalogues.en[key];
    for (key in own) all[key] = own[key];
    return all;
  }

  // A string with its {fields} filled in; a field without a value stays as written.
  function fill(text, vars) {
    return typeof text !== "string" ? text : text.replace(/\{(\w+)\}/g, function (all, name) {
      return vars && vars[name] != null ? vars[name] : all;
    });
  }

  function countText(T, plural, n) {
    return fill(T[n === 0 ? "comments_0" : plural.select(n) === "one" ? "comments_1" : "comments_n"], {n: n});
  }

  var SIMPLE_ERRORS = {too_short: "e_too_short", invalid: "e_invalid", invalid_characters: "e_invalid_characters",
    too_many_links: "e_too_many_links", thread_closed: "e_thread_closed", unknown_thread: "e_unknown_thread",
    unknown_parent: "e_unknown_parent", not_found: "e_not_found", wrong_token: "e_locked",
    edit_window_closed: "e_locked", missing_token: "e_locked", cross_origin_forbidden: "e_cross_origin",
    reserved: "e_reserved"};

  // A clear sentence for any error, from its code, field and status; labelOf(field) names a field
  // as its form does. The no-JavaScript form says the same (comments_server/strings.py error_text).
  function errorText(T, error, labelOf) {
    var code = error.code || "", status = error.status || 0, field = error.field;
    var vars = {label: labelOf(field), message: error.message || code};
    var max = /at most (\d+)/.exec(error.message || "");
    if (code === "network") return T.e_network;
    if (status === 429 || code === "rate_limited") return T.e_rate_limited;
    if (status >= 500) return T.e_server;
    if (field === "form_token") return code === "too_fast" ? T.e_too_fast : T.e_form_token;
    if (code === "too_long" || status === 413) {
      vars.max = max && max[1];
      if (!field) vars.label = labelOf("body");
      return fill(vars.max ? T.e_too_long_max : T.e_too_long, vars);
    }
    if (code === "missing" || code === "empty") return fill(T.e_missing, vars);
    if (code === "invalid" && (field === "author_email" || field === "author_url")) {
      return fill(field === "author_email" ? T.e_invalid_email : T.e_invalid_url, vars);
    }
    return fill(SIMPLE_ERRORS[code] ? T[SIMPLE_ERRORS[code]] : T.e_other, vars);
  }

  // Reads a time's calendar fields in one time zone (UTC when the zone is unknown).
  function zoneFormat(zone) {
    var options = {timeZone: zone || "UTC", hourCycle: "h23", year: "numeric", month: "numeric",
      day: "numeric", hour: "numeric", minute: "numeric"};
    try { return new Intl.DateTimeFormat("en-US", options); } catch (e) { options.timeZone = "UTC"; }
    return new Intl.DateTimeFormat("en-US", options);
  }

  // {year, month, day, hour, minute, offset}: a time as the clock in the zone shows it, offset in minutes.
  function zonedParts(format, date) {
    var parts = {};
    format.formatToParts(date).forEach(function (part) {
      if (part.type !== "literal") parts[part.type] = parseInt(part.value, 10);
    });
    var local = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute);
    parts.offset = Math.round((local - Math.floor(date.getTime() / 60000) * 60000) / 60000);
    return parts;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function utcOffset(minutes) {
    var size = Math.abs(minutes), rest = size % 60;
    return minutes === 0 ? "UTC" : "UTC" + (minutes > 0 ? "+" : "-") + Math.floor(size / 60) + (rest ? ":" + pad(rest) : "");
  }

  // A comment's date in words, then with the time of day, as the theme bakes them.
  function dateText(T, parts) {
    return fill(T.date, {day: parts.day, month: T.months[parts.month - 1], year: parts.year});
  }

  function exactText(T, parts) {
    return fill(T.date_time, {date: dateText(T, parts), time: pad(parts.hour) + ":" + pad(parts.minute),
      zone: utcOffset(parts.offset)});
  }

  // How long ago, in words ("3 days ago"); `seconds` is negative for the past.
  function relativeText(T, relative, seconds) {
    var size = Math.abs(seconds), steps = [[3600, 60, "minute"], [86400, 3600, "hour"], [2592000, 86400, "day"],
      [31536000, 2592000, "month"], [Infinity, 31536000, "year"]];
    if (size < 60) return T.just_now;
    for (var i = 0; ; i++) {
      if (size < steps[i][0]) return relative.format(Math.round(seconds / steps[i][1]), steps[i][2]);
    }
  }

  // A thread path in a query string, encoded as the theme's urlencode filter does (slashes kept).
  function queryValue(text) {
    return encodeURIComponent(text).replace(/%2F/g, "/").replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }

  if (typeof document === "undefined" && typeof module === "object" && module.exports) {
    module.exports = {catalogueFor: catalogueFor, fill: fill, countText: countText, errorText: errorText,
      zoneFormat: zoneFormat, zonedParts: zonedParts, utcOffset: utcOffset, dateText: dateText,
      exactText: exactText, relativeText: relativeText, queryValue: queryValue};
    return;
  }

  // --- settings ------------------------------------------------------------------------------

  var me = document.currentScript;
  if (!me || !window.fetch) return;
  var opt = me.dataset;
  var base = (opt.server || me.src.split(/[?#]/)[0].replace(/\/(widget\/)?embed\.js$/, "")).replace(/\/+$/, "");
  var lang = opt.lang || document.documentElement.lang || "en";
  var T = catalogueFor(STRINGS, lang);
  var maxDepth = isNaN(parseInt(opt.maxDepth, 10)) ? 5 : parseInt(opt.maxDepth, 10);
  var zone = zoneFormat(opt.timezone);
  var OWN = "bec-own", READER = "bec-reader";
  function formats(tag) {
    return [new Intl.PluralRules(tag), new Intl.RelativeTimeFormat(tag, {numeric: "auto"})];
  }
  var intl;
  try { intl = formats(lang); } catch (e) { intl = formats("en"); }  // not a valid language tag
  var plural = intl[0], relative = intl[1];

  // --- helpers and the API -------------------------------------------------------------------

  function t(key, vars) {
    return fill(T[key], vars);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function load(key) {
    try { return JSON.parse(localStorage.getItem(key)) || {}; } catch (e) { return {}; }
  }

  function save(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: not remembered */ }
  }

  // One request to the API: resolves {status, data}; rejects with the API's error object
  // ({code, message, field, status}), or {code: "network"} when the server cannot be reached.
  function api(method, path, body, editToken, idempotencyKey) {
    var init = {method: method, headers: {}, credentials: "omit"};
    if (body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (editToken) init.headers["X-Edit-Token"] = editToken;
    if (idempotencyKey) init.headers["Idempotency-Key"] = idempotencyKey;
    return fetch(base + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { /* a proxy's HTML error page */ }
        if (response.ok) return {status: response.status, data: data};
        var error = (data && data.error) || {code: "http_" + response.status, message: response.statusText};
        error.status = response.status;
        throw error;
      });
    }, function () {
      throw {code: "network"};
    });
  }

  function explain(error, form) {
    return errorText(T, error, function (field) {
      var input = form && form.elements[field];
      var label = input && input.labels && input.labels[0];
      return label ? label.textContent : t(field === "body" ? "body" : field);
    });
  }

  function setTime(node) {
    var when = new Date(node.dateTime);
    if (isNaN(when)) return;
    var parts = zonedParts(zone, when);
    node.textContent = dateText(T, parts);
    node.title = relativeText(T, relative, (when - Date.now()) / 1000) + " · " + exactText(T, parts);
  }

  function timeNode(iso) {
    var node = el("time", "bec-time");
    node.dateTime = iso;
    setTime(node);
    return node;
  }

  // --- counts on index and tag pages: one request for the whole page ---------------------------

  var counters = document.querySelectorAll(".comment-count[data-thread]");
  if (counters.length) {
    var paths = [];
    counters.forEach(function (node) {
      var path = node.getAttribute("data-thread");
      if (paths.indexOf(path) < 0) paths.push(path);
    });
    api("GET", "/api/counts?" + paths.slice(0, 100).map(function (path) {
      return "thread=" + encodeURIComponent(path);
    }).join("&")).then(function (result) {
      counters.forEach(function (node) {
        var n = result.data[node.getAttribute("data-thread")];
        if (typeof n === "number") node.textContent = countText(T, plural, n);
      });
    }, function () { /* the baked text stays */ });
  }

  // --- the conversation: rendering ------------------------------------------------------------

  var box = document.querySelector(opt.target || "#comments");
  if (!box) return;
  var thread = box.getAttribute("data-thread") || location.pathname;
  var bakedTrap = box.querySelector(".bec-hp input"), bakedForm = box.querySelector("form[action]");
  // Reply links lead to the form the baked page posts to (the server's no-JavaScript form).
  var formUrl = bakedForm ? bakedForm.getAttribute("action") : base + "/comments/form";
  var honeypot = opt.honeypot != null ? opt.honeypot : (bakedTrap ? bakedTrap.name : "website");
  var state = {token: null, open: true, count: 0};
  var own = load(OWN), formCount = 0;

  if (!document.querySelector("link[data-bec-css]")) {
    var css = el("link");
    css.rel = "stylesheet";
    css.href = base + "/embed.css";
    css.setAttribute("data-bec-css", "");
    document.head.appendChild(css);
  }
  box.classList.add("bec");

  // Forget edit tokens whose window has closed.
  Object.keys(own).forEach(function (id) {
    if (own[id].until && Date.parse(own[id].until) < Date.now()) delete own[id];
  });
  save(OWN, own);

  // The section's parts, in this order; the baked page may hold some or all of them already.
  var PARTS = ["bec-summary", "bec-thread", "bec-reactions", "bec-status", "bec-new"];
  function part(cls, tag) {
    var node = box.querySelector(":scope > ." + cls), later = null;
    for (var i = PARTS.indexOf(cls) + 1; i < PARTS.length && !later; i++) later = box.querySelector(":scope > ." + PARTS[i]);
    if (!node) box.insertBefore(node = el(tag, cls), later);
    return node;
  }

  var summary = part("bec-summary", "p");
  var list = part("bec-thread", "ol");
  var status = part("bec-status", "div");
  status.setAttribute("role", "status");
  var newArea = part("bec-new", "div");

  function announce(text) {
    // The same words twice in a row are only read out again if the region changes in between.
    status.textContent = status.textContent === text ? "" : text;
    if (!status.textContent) setTimeout(function () { status.textContent = text; }, 100);
  }

  function setCount(n) {
    state.count = Math.max(0, n);
    summary.textContent = countText(T, plural, state.count);
  }

  function isOwn(id) {
    var mine = own[id];
    return mine && (!mine.until || Date.parse(mine.until) > Date.now()) ? mine : null;
  }

  function webUrl(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  function avatar(url, alt) {
    var img = el("img", "bec-avatar");
    img.src = url;
    img.alt = alt;
    img.width = img.height = 24;
    img.loading = "lazy";
    img.referrerPolicy = "no-referrer";
    return img;
  }

  function outLink(cls, url, text) {
    var a = el("a", cls, text);
    a.href = url;
    a.rel = "nofollow ugc noopener";
    return a;
  }

  function renderComment(c, depth) {
    var remote = c.deleted ? null : webUrl(c.origin_url), answers = c.deleted ? null : webUrl(c.in_reply_to_url);
    var li = el("li", "bec-comment" + (c.is_author ? " bec-by-author" : "") + (c.deleted ? " bec-deleted" : "") +
                (remote ? " bec-remote" : "") + (answers ? " h-entry" : ""));
    var item = el("article", "bec-item"), meta = el("header", "bec-meta"), name;
    li.id = "comment-" + c.id;
    li.bec = {comment: c, depth: depth};
    if (remote && webUrl(c.author_photo)) meta.appendChild(avatar(c.author_photo, ""));
    if (c.author_url && !c.deleted && /^https?:\/\//i.test(c.author_url)) {
      name = el("a", "bec-author", c.author_name);
      name.href = c.author_url;
      name.rel = "nofollow ugc noopener";
    } else {
      name = el("span", "bec-author", c.deleted ? t("deleted") : c.author_name);
    }
    meta.appendChild(name);
    var fediverse = remote && c.origin === "fediverse";
    if (fediverse && typeof c.author_handle === "string") meta.appendChild(el("span", "bec-handle", c.author_handle));
    if (c.is_author) meta.appendChild(el("span", "bec-badge", t("author")));
    if (remote) meta.appendChild(outLink("bec-origin", remote, fediverse ? t("via_fediverse") : t("via", {site: c.origin_site || ""})));
    var link = el("a", "bec-permalink");
    link.href = "#comment-" + c.id;
    link.appendChild(timeNode(c.created_at));
    meta.appendChild(link);
    if (c.edited_at) meta.appendChild(editedNode(c.edited_at));
    if (answers) meta.appendChild(outLink("bec-answers u-in-reply-to", answers, t("answers")));
    var text = el("div", "bec-text" + (answers ? " e-content" : ""));
    if (c.deleted) {
      text.appendChild(el("p", null, t("deleted_text")));
    } else {
      text.innerHTML = c.body_html;  // sanitised by the server when the comment was stored
    }
    item.appendChild(meta);
    item.appendChild(text);
    li.appendChild(item);
    if (!c.deleted) {
      item.appendChild(el("div", "bec-actions"));
      fillActions(li);
    }
    if (c.replies && c.replies.length) {
      var replies = el("ol", "bec-replies");
      c.replies.forEach(function (reply) { replies.appendChild(renderComment(reply, depth + 1)); });
      li.appendChild(replies);
    }
    return li;
  }

  // Likes, reposts and bookmarks as faces with a count; other mentions as a list of links.
  function renderReactions(mentions) {
    var wrap = el("div", "bec-reactions"), list = el("ul", "bec-mentions"), kinds = ["like", "repost", "bookmark"];
    kinds.forEach(function (kind) {
      var group = mentions.filter(function (m) { return m.kind === kind; }), row = el("p", "bec-reaction bec-" + kind + "s");
      row.appendChild(el("span", "bec-reaction-count", t(kind + "s_" + (group.length > 1 ? "n" : "1"), {n: group.length})));
      group.forEach(function (m) {
        var name = m.author_name || m.source_site, face = outLink("bec-face", webUrl(m.author_url) || webUrl(m.source_url) || "#");
        face.title = name;
        face.appendChild(webUrl(m.author_photo) ? avatar(m.author_photo, name) : el("span", "bec-face-name", name));
        row.appendChild(face);
      });
      if (group.length) wrap.appendChild(row);
    });
    mentions.forEach(function (m) {
      if (kinds.indexOf(m.kind) >= 0) return;
      var li = el("li", "bec-mention");
      li.appendChild(outLink(null, webUrl(m.source_url) || "#", m.title || m.source_site));
      list.appendChild(li);
    });
    if (list.firstChild) {
      wrap.appendChild(el("h3", "bec-mentions-title", t("mentions")));
      wrap.appendChild(list);
    }
    return wrap;
  }

  function editedNode(iso) {
    var node = el("span", "bec-edited", t("edited"));
    node.title = exactText(T, zonedParts(zone, new Date(iso)));
    return node;
  }

  function button(text, cls, onClick, label) {
    var node = el("button", "bec-button " + cls, text);
    node.type = "button";
    if (label) node.setAttribute("aria-label", label);
    node.addEventListener("click", onClick);
    return node;
  }

  function fillActions(li) {
    var c = li.bec.comment, actions = li.querySelector(":scope > .bec-item > .bec-actions"), mine = isOwn(c.id);
    if (c.deleted || !actions) return;
    actions.textContent = "";
    if (state.open) {
      // The baked page's link to the server's form, opening the form in place instead.
      var reply = el("a", "bec-reply", t("reply"));
      reply.href = formUrl + "?thread=" + queryValue(thread) + "&parent_id=" + c.id;
      reply.setAttribute("aria-label", t("reply_to", {name: c.author_name}));
      reply.addEventListener("click", function (event) {
        if (event.button || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;  // a new tab
        event.preventDefault();
        openReply(li, reply);
      });
      actions.appendChild(reply);
    }
    if (mine) {
      actions.appendChild(button(t("edit"), "bec-edit", function () { openEdit(li); }, t("edit_label")));
      actions.appendChild(button(t("delete"), "bec-delete", function () { askDelete(li); }, t("delete_label")));
      if (mine.until) {
        clearTimeout(li.becTimer);
        li.becTimer = setTimeout(function () { if (li.isConnected) fillActions(li); },
          Math.min(Date.parse(mine.until) - Date.now() + 500, 2147483000));
      }
    }
  }

  function focusOn(node) {
    if (!node.hasAttribute("tabindex")) node.tabIndex = -1;
    node.focus({preventScroll: true});
    node.scrollIntoView({block: "nearest"});
  }

  function highlight(li) {
    var old = box.querySelector(".bec-highlight");
    if (old) old.classList.remove("bec-highlight");
    li.classList.add("bec-highlight");
  }

  function showTarget() {
    var match = /^#comment-(\d+)$/.exec(location.hash);
    var li = match && document.getElementById("comment-" + match[1]);
    if (li && box.contains(li)) {
      highlight(li);
      focusOn(li);
      li.scrollIntoView({block: "center"});
    }
  }

  // --- forms -------------------------------------------------------------------------------

  function field(form, n, name, type, label, attrs) {
    var wrap = el("p", "bec-field bec-field-" + name);
    var input = el(type === "textarea" ? "textarea" : "input"), lab = el("label", null, label);
    input.id = lab.htmlFor = "bec-" + n + "-" + name;
    input.name = name;
    if (type !== "textarea") input.type = type;
    Object.keys(attrs || {}).forEach(function (key) { input.setAttribute(key, attrs[key]); });
    if (type === "checkbox") {
      wrap.appendChild(input);
      wrap.appendChild(lab);
    } else {
      wrap.appendChild(lab);
      wrap.appendChild(input);
    }
    form.appendChild(wrap);
    return input;
  }

  function helpNode() {
    var details = el("details", "bec-help"), items = el("ul");
    details.appendChild(el("summary", null, t("help")));
    t("help_items").forEach(function (pair) {
      var item = el("li");
      item.appendChild(el("code", null, pair[0]));
      item.appendChild(document.createTextNode(" → " + pair[1]));
      items.appendChild(item);
    });
    details.appendChild(items);
    details.appendChild(el("p", null, t("help_note")));
    return details;
  }

  // A form for a new comment (kind "new"), a reply (kind "reply", li = the parent) or an edit.
  function buildForm(kind, li, onDone) {
    var form = el("form", "bec-form bec-form-" + kind), n = ++formCount, reader = load(READER);
    var bodyLabel = kind === "reply" ? t("reply_to", {name: li.bec.comment.author_name}) :
      kind === "edit" ? t("edit_label") : t("body");
    form.noValidate = true;
    form.id = "bec-form-" + n;
    var body = field(form, n, "body", "textarea", bodyLabel, {rows: kind === "new" ? 5 : 4, required: ""});
    form.appendChild(helpNode());
    var preview = el("div", "bec-preview");
    preview.hidden = true;
    preview.appendChild(el("p", "bec-preview-title", t("preview")));
    var previewText = el("div", "bec-text");
    preview.appendChild(previewText);
    form.appendChild(preview);
    if (kind !== "edit") {
      var name = field(form, n, "author_name", "text", t("author_name"), {autocomplete: "name", required: ""});
      var email = field(form, n, "author_email", "email", t("author_email"), {autocomplete: "email"});
      var site = field(form, n, "author_url", "url", t("author_url"), {autocomplete: "url"});
      var notify = field(form, n, "notify_replies", "checkbox", t("notify"));
      name.value = reader.author_name || "";
      email.value = reader.author_email || "";
      site.value = reader.author_url || "";
      notify.checked = !!reader.notify_replies;
      if (honeypot) {
        var trap = el("div", "bec-hp"), trapLabel = el("label", null, t("honeypot") + " ");
        var trapInput = el("input");
        trap.setAttribute("aria-hidden", "true");
        trapInput.type = "text";
        trapInput.name = honeypot;
        trapInput.tabIndex = -1;
        trapInput.autocomplete = "off";
        trapLabel.appendChild(trapInput);
        trap.appendChild(trapLabel);
        form.appendChild(trap);
      }
    }
    var message = el("p", "bec-msg");
    message.setAttribute("role", "alert");
    form.appendChild(message);
    var buttons = el("p", "bec-buttons");
    var submit = el("button", "bec-button bec-primary",
      kind === "edit" ? t("save") : kind === "reply" ? t("post_reply") : t("post"));
    submit.type = "submit";
    buttons.appendChild(submit);
    if (kind !== "new") buttons.appendChild(button(t("cancel"), "bec-cancel", function () { onDone(null); }));
    form.appendChild(buttons);

    var previewTimer, previewSeq = 0;
    body.addEventListener("input", function () {
      clearTimeout(previewTimer);
      previewTimer = setTimeout(function () {
        var text = body.value, seq = ++previewSeq;
        if (!text.trim()) {
          preview.hidden = true;
          return;
        }
        api("POST", "/api/preview", {body: text}).then(function (result) {
          if (seq !== previewSeq) return;
          previewText.innerHTML = result.data.body_html;  // sanitised by the server
          preview.hidden = false;
        }, function () { if (seq === previewSeq) preview.hidden = true; });
      }, 400);
    });
    body.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });

    function fail(error) {
      var input = error.field && form.elements[error.field];
      message.textContent = explain(error, form);
      if (input && input.focus) {
        input.setAttribute("aria-invalid", "true");
        input.setAttribute("aria-describedby", message.id = "bec-" + n + "-msg");
        input.focus();
      }
      if (error.field === "form_token") refreshToken();
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.becBusy) return;
      Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (input) {
        input.removeAttribute("aria-invalid");
        input.removeAttribute("aria-describedby");
      });
      message.textContent = "";
      var missing = !body.value.trim() ? "body" : kind !== "edit" && !name.value.trim() ? "author_name" : null;
      if (missing) return fail({code: "missing", field: missing});
      var request;
      if (kind === "edit") {
        request = api("PATCH", "/api/comments/" + li.bec.comment.id, {body: body.value}, isOwn(li.bec.comment.id).token);
      } else {
        var url = site.value.trim();
        if (url && !/^[a-z][a-z0-9+.-]*:/i.test(url)) site.value = url = "https://" + url;
        var data = {
          thread: thread, parent_id: kind === "reply" ? li.bec.comment.id : null,
          author_name: name.value, author_email: email.value.trim() || null, author_url: url || null,
          body: body.value, notify_replies: notify.checked, form_token: state.token
        };
        if (honeypot) data[honeypot] = form.elements[honeypot].value;
        // One key per comment being written: sending it again (after a network error, a double
        // click) gets the first answer instead of posting twice.
        if (!form.becKey) form.becKey = newKey();
        request = api("POST", "/api/comments", data, null, form.becKey);
      }
      var sent = body.value;
      form.becBusy = true;
      form.setAttribute("aria-busy", "true");
      submit.disabled = true;
      submit.textContent = t("sending");
      function done() {
        form.becBusy = false;
        form.removeAttribute("aria-busy");
        submit.disabled = false;
        submit.textContent = kind === "edit" ? t("save") : kind === "reply" ? t("post_reply") : t("post");
      }
      request.then(function (result) {
        done();
        form.becKey = null;
        if (kind !== "edit") refreshToken();  // each form token posts one comment
        if (kind !== "edit") {
          save(READER, {author_name: name.value.trim(), author_email: email.value.trim(),
            author_url: url, notify_replies: notify.checked});
        }
        body.value = "";
        preview.hidden = true;
        onDone(result, sent);
      }, function (error) {
        done();
        // Refused: nothing was stored, so the next try is a new request. Not heard back: the
        // same request again, with the same key.
        if (error.code !== "network" && !(error.status >= 500)) form.becKey = null;
        fail(error);
      });
    });
    form.becBody = body;
    return form;
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // The form token records when the form was shown; the thread itself comes from the HTTP cache.
  function refreshToken() {
    return api("GET", "/api/form-token?thread=" + encodeURIComponent(thread)).then(function (result) {
      state.token = result.data.form_token;
    }, function () {});
  }

  // Where a new comment goes: the end of the thread, or under its parent, or beside the parent
  // when the parent is already at the server's display depth (as the server will show it).
  function insert(c, parent) {
    var depth = 0, target = list;
    if (parent) {
      depth = Math.min(parent.bec.depth + 1, maxDepth);
      if (parent.bec.depth < maxDepth) {
        target = parent.querySelector(":scope > .bec-replies");
        if (!target) target = parent.appendChild(el("ol", "bec-replies"));
      } else {
        target = parent.parentNode;
      }
    }
    var li = renderComment(c, depth);
    target.appendChild(li);
    return li;
  }

  function posted(result, parent, sentBody) {
    if (result.status === 202) {
      announce(t("pending"));
      return null;
    }
    var c = result.data;
    own[c.id] = {token: c.edit_token, until: c.editable_until, body: sentBody};
    save(OWN, own);
    var li = insert(c, parent);
    setCount(state.count + 1);
    highlight(li);
    focusOn(li);
    announce(t("posted"));
    return li;
  }

  function mainForm() {
    var old = newArea.querySelector("form");
    if (!state.open) {
      newArea.textContent = "";
      newArea.appendChild(el("p", "bec-closed", t("closed")));
      return;
    }
    var form = buildForm("new", null, function (result, sent) {
      posted(result, null, sent);
    });
    if (old) {
      // Keep anything the reader typed into the baked form before the widget took over.
      var focused = old.contains(document.activeElement) ? document.activeElement.name : null;
      Array.prototype.forEach.call(old.elements, function (input) {
        var twin = input.name && form.elements[input.name];
        if (!twin || input.type === "hidden" || input.name === honeypot) return;
        if (input.type === "checkbox") {
          if (input.checked) twin.checked = true;
        } else if (input.value) {
          twin.value = input.value;
        }
      });
      old.parentNode.replaceChild(form, old);
      if (focused && form.elements[focused]) form.elements[focused].focus();
    } else {
      if (!newArea.querySelector("h3")) newArea.appendChild(el("h3", "bec-new-title", t("leave")));
      newArea.appendChild(form);
    }
  }

  function openReply(li, opener) {
    var existing = li.querySelector(":scope > .bec-item > .bec-form-reply");
    if (existing) {
      existing.becBody.focus();
      return;
    }
    var form = buildForm("reply", li, function (result, sent) {
      form.remove();
      opener.setAttribute("aria-expanded", "false");
      if (!result) {
        opener.focus();
        return;
      }
      if (!posted(result, li, sent)) {
        var note = el("p", "bec-note", t("pending"));
        li.querySelector(".bec-item").appendChild(note);
        focusOn(note);
      }
    });
    li.querySelector(".bec-item").appendChild(form);
    opener.setAttribute("aria-expanded", "true");
    opener.setAttribute("aria-controls", form.id);
    form.becBody.focus();
  }

  function openEdit(li) {
    var item = li.querySelector(".bec-item"), text = item.querySelector(":scope > .bec-text");
    var actions = item.querySelector(":scope > .bec-actions"), mine = isOwn(li.bec.comment.id);
    if (!mine) return fillActions(li);
    var form = buildForm("edit", li, function (result, sent) {
      form.remove();
      text.hidden = actions.hidden = false;
      if (result) {
        var c = result.data;
        li.bec.comment.body_html = c.body_html;
        li.bec.comment.edited_at = c.edited_at;
        text.innerHTML = c.body_html;  // sanitised by the server
        var old = item.querySelector(".bec-edited");
        var edited = editedNode(c.edited_at);
        if (old) old.replaceWith(edited); else item.querySelector(".bec-meta").appendChild(edited);
        own[c.id].body = sent;
        save(OWN, own);
        fillActions(li);
        announce(t("updated"));
        focusOn(li);
      } else {
        (actions.querySelector(".bec-edit") || li).focus();
      }
    });
    form.becBody.value = mine.body || "";
    text.hidden = actions.hidden = true;
    item.insertBefore(form, actions);
    form.becBody.focus();
  }

  function askDelete(li) {
    var actions = li.querySelector(".bec-actions"), c = li.bec.comment;
    var message = el("p", "bec-msg");
    actions.textContent = "";
    actions.appendChild(el("span", "bec-confirm", t("delete_confirm") + " "));
    var yes = button(t("delete_yes"), "bec-delete", function () {
      api("DELETE", "/api/comments/" + c.id, null, (isOwn(c.id) || {}).token).then(function () {
        delete own[c.id];
        save(OWN, own);
        setCount(state.count - 1);
        announce(t("removed"));
        var replies = li.querySelector(":scope > .bec-replies");
        if (replies && replies.children.length) {
          c.deleted = true;
          var placeholder = renderComment({id: c.id, deleted: true, created_at: c.created_at, replies: []}, li.bec.depth);
          li.replaceChild(placeholder.querySelector(".bec-item"), li.querySelector(".bec-item"));
          li.className = placeholder.className;
          li.bec = placeholder.bec;
          focusOn(li);
        } else {
          var parent = li.parentNode.closest(".bec-comment");
          var siblings = li.parentNode;
          li.remove();
          if (siblings !== list && !siblings.children.length) siblings.remove();
          focusOn(parent || box.querySelector("h2, h3") || summary);
        }
      }, function (error) {
        fillActions(li);
        actions.appendChild(message);
        message.setAttribute("role", "alert");
        message.textContent = explain(error, null);
      });
    });
    actions.appendChild(yes);
    actions.appendChild(button(t("cancel"), "bec-cancel", function () {
      fillActions(li);
      (li.querySelector(".bec-delete") || li).focus();
    }));
    yes.focus();
  }

  // --- start --------------------------------------------------------------------------------

  refreshToken();
  api("GET", "/api/comments?thread=" + encodeURIComponent(thread)).then(function (result) {
    var d = result.data, fresh = el("ol", "bec-thread");
    state.open = d.open;
    d.comments.forEach(function (c) { fresh.appendChild(renderComment(c, 0)); });
    list.replaceWith(fresh);
    list = fresh;
    var baked = box.querySelector(":scope > .bec-reactions");
    if (baked) baked.remove();
    if (d.mentions && d.mentions.length) list.after(renderReactions(d.mentions));
    setCount(d.count);
    mainForm();
    box.classList.add("bec-live");
    showTarget();
  }, function (error) {
    announce(t("load_failed", {reason: explain(error, null)}));
  });
  window.addEventListener("hashchange", showTarget);
  setInterval(function () {
    Array.prototype.forEach.call(box.querySelectorAll("time.bec-time"), setTime);
  }, 60000);
})();
