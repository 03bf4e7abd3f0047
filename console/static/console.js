// The console page: draws /console/state, posts what the user does, redraws on server events.
"use strict";

(() => {
  const { el, plain, renderBlocks, textObject } = BlockKit;
  const $ = (id) => document.getElementById(id);
  const ui = {
    user: $("as-user"), health: $("demo-health"), channels: $("channel-list"), dms: $("dm-list"),
    title: $("channel-title"), banner: $("banner"), messages: $("messages"), composer: $("composer"),
    input: $("composer-input"), composerLabel: $("composer-label"), send: $("composer-send"), toast: $("toast"),
    thread: $("thread"), threadTitle: $("thread-title"), threadMessages: $("thread-messages"),
    modal: $("modal"), modalForm: $("modal-form"), modalTitle: $("modal-title"), modalBody: $("modal-body"),
    modalError: $("modal-error"), modalSubmit: $("modal-submit"), modalCancel: $("modal-cancel"),
    confirm: $("confirm"),
  };
  const params = new URLSearchParams(location.search);
  const LAST_USER = "releasebot-console-user";
  const view = {
    state: null,
    // A permalink opened in a new tab has no user: it opens as whoever acted last here.
    userId: params.get("user") || localStorage.getItem(LAST_USER) || "",
    focus: params.get("message") ? { channel: params.get("channel"), ts: params.get("message"), thread: params.get("thread") } : null,
    channelId: params.get("channel") || "",
    threadTs: params.get("message") ? null : params.get("thread") || null,
    // Ephemeral messages live only as long as the page (a reload drops them, as in Slack):
    // those given out before the page first loaded are not shown.
    loadedTs: null,
    seen: {},            // user → channel → newest ts seen, for unread marks
    channelByUser: {},   // user → the channel they had open
    dismissedProblem: -1,
    modalKey: null,      // id+hash of the modal on screen, to keep typed values across redraws
  };

  // -- talking to the server ------------------------------------------------------------------

  async function post(path, body) {
    try {
      const answer = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await answer.json().catch(() => ({ ok: false, error: `HTTP ${answer.status}` }));
      if (!data.ok) toast(data.error || "Something went wrong");
      return data.ok;
    } catch (error) {
      toast("The console is not reachable");
      return false;
    } finally {
      refresh();
    }
  }

  let loading = null;
  let again = false;
  async function refresh() {
    if (loading) { again = true; return loading; }
    loading = (async () => {
      do {
        again = false;
        const query = view.userId ? `?user_id=${encodeURIComponent(view.userId)}` : "";
        const answer = await fetch("/console/state" + query).catch(() => null);
        if (answer && answer.status === 404 && view.userId) {
          // A link or a remembered person from another workspace: act as the first person.
          toast(`Nobody here has the id ${view.userId}; acting as the first person instead`);
          localStorage.removeItem(LAST_USER);
          view.userId = "";
          again = true;
          continue;
        }
        if (answer && answer.ok) draw(await answer.json());
      } while (again);
    })();
    try { await loading; } finally { loading = null; }
  }

  function listen() {
    if (!window.EventSource) { setInterval(refresh, 1500); return; }
    const source = new EventSource("/console/events");
    source.addEventListener("change", () => refresh());
  }

  function toast(text) {
    ui.toast.textContent = text;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { ui.toast.textContent = ""; }, 6000);
  }

  // -- drawing --------------------------------------------------------------------------------

  function context() {
    const state = view.state;
    return {
      directory: state.directory,
      usergroups: state.usergroups,
      channelNames: Object.fromEntries(state.channels.map((c) => [c.id, c.name])),
      openPermalink,
    };
  }

  // -- permalinks: /archives/<channel>/p<ts>[?thread_ts=<parent>] on this console's address --

  function openPermalink(href) {
    let url;
    try { url = new URL(href, location.href); } catch (error) { return false; }
    const found = /^\/archives\/([A-Z0-9]+)\/p(\d{7,})$/.exec(url.pathname);
    if (url.origin !== location.origin || !found) return false;
    const ts = `${found[2].slice(0, -6)}.${found[2].slice(-6)}`;
    view.focus = { channel: found[1], ts, thread: url.searchParams.get("thread_ts") };
    draw(view.state);
    return true;
  }

  // Open the linked message's conversation and its thread (a reply's, or the message's own
  // when it has replies), then bring the message into view, marked.
  function goToFocus() {
    const focus = view.focus;
    if (!focus) return;
    view.focus = null;
    if (!view.state.channels.some((c) => c.id === focus.channel)) { toast("That message is in a conversation you are not in"); return; }
    view.channelId = focus.channel;
    const items = view.state.messages[focus.channel] || [];
    const own = items.find((m) => m.ts === focus.ts);
    view.threadTs = focus.thread || (own && (own.replies || []).length ? own.ts : null);
    view.linkedTs = focus.ts;
    markSeen(view.channelId);
    drawSidebar();
    drawChannel();
    drawThread();
    for (const list of [ui.messages, ui.threadMessages]) {
      const item = list.querySelector(`li.message[data-ts="${CSS.escape(focus.ts)}"]`);
      if (item) item.scrollIntoView({ block: "center" });
    }
  }

  function draw(state) {
    // An answer for the user we were before a switch: a newer request is already on its way.
    if (view.userId && state.me !== view.userId) { again = true; return; }
    if (view.loadedTs === null) view.loadedTs = parseFloat(state.latest_ts);
    const fresh = (m) => !m.ephemeral || parseFloat(m.ts) > view.loadedTs;
    for (const [id, items] of Object.entries(state.messages)) {
      state.messages[id] = items.filter(fresh).map((m) => (m.replies ? { ...m, replies: m.replies.filter(fresh) } : m));
    }
    view.state = state;
    view.userId = state.me;
    if (!state.channels.some((c) => c.id === view.channelId)) view.channelId = state.channels[0]?.id || "";
    markSeen(view.channelId);
    drawUsers();
    drawHealth();
    drawSidebar();
    drawBanner();
    drawChannel();
    drawThread();
    drawModal();
    goToFocus();
    if (view.userId) localStorage.setItem(LAST_USER, view.userId);
  }

  // Who is acting and where, in the address: a reload (or a shared link) keeps both.
  function remember() {
    const query = new URLSearchParams({ user: view.userId, channel: view.channelId });
    if (view.threadTs) query.set("thread", view.threadTs);
    const wanted = "?" + query.toString();
    if (location.search !== wanted) history.replaceState(null, "", wanted + location.hash);
  }

  function drawUsers() {
    const { people, me } = view.state;
    const wanted = people.map((p) => `${p.id}:${p.name}`).join(",");
    if (ui.user.dataset.people !== wanted) {
      ui.user.replaceChildren(...people.map((p) => el("option", { value: p.id },
        `${p.name}${p.title ? " — " + p.title : ""}${p.is_admin ? " (admin)" : ""}`)));
      ui.user.dataset.people = wanted;
    }
    ui.user.value = me;
  }

  function drawHealth() {
    const healthy = view.state.demo.healthy;
    ui.health.setAttribute("aria-pressed", String(healthy));
    ui.health.textContent = `Demo service: ${healthy ? "healthy" : "unhealthy"}`;
    ui.health.classList.toggle("danger", !healthy);
  }

  function seenMap() {
    view.seen[view.userId] = view.seen[view.userId] || {};
    return view.seen[view.userId];
  }

  function newestTs(channelId) {
    const items = view.state.messages[channelId] || [];
    return items.length ? items[items.length - 1].ts : "0";
  }

  function markSeen(channelId) {
    const seen = seenMap();
    // First sight of this user's view: everything already there counts as read.
    if (!seen.__init) {
      for (const c of view.state.channels) seen[c.id] = newestTs(c.id);
      seen.__init = true;
    }
    if (channelId) seen[channelId] = newestTs(channelId);
  }

  function unread(channelId) {
    const since = parseFloat(seenMap()[channelId] || "0");
    return (view.state.messages[channelId] || []).filter((m) => parseFloat(m.ts) > since && m.user !== view.userId).length;
  }

  function drawSidebar() {
    const item = (channel) => {
      const count = channel.id === view.channelId ? 0 : unread(channel.id);
      const label = channel.is_im ? channel.name : "#" + channel.name;
      return el("li", {},
        el("button", {
          type: "button",
          class: "conversation" + (count ? " has-unread" : ""),
          "aria-current": channel.id === view.channelId ? "page" : null,
          "data-channel": channel.id,
          onclick: () => openChannel(channel.id),
        }, el("span", { text: label }),
        count ? el("span", { class: "unread", "aria-label": `${count} unread`, text: String(count) }) : null));
    };
    ui.channels.replaceChildren(...view.state.channels.filter((c) => !c.is_im).map(item));
    ui.dms.replaceChildren(...view.state.channels.filter((c) => c.is_im).map(item));
  }

  function drawBanner() {
    const problem = view.state.problems.find((p) => p.id > view.dismissedProblem);
    if (!problem) { ui.banner.hidden = true; ui.banner.replaceChildren(); return; }
    ui.banner.hidden = false;
    ui.banner.replaceChildren(
      el("strong", { text: "Slack would reject what the app sent. " }),
      el("span", { text: `${problem.method}: ${problem.error}` }),
      problem.messages.length ? el("ul", {}, problem.messages.map((m) => el("li", { text: m }))) : null,
      el("button", { type: "button", class: "dismiss", onclick: () => { view.dismissedProblem = problem.id; drawBanner(); } }, "Dismiss"));
  }

  function channelLabel() {
    const channel = view.state.channels.find((c) => c.id === view.channelId);
    if (!channel) return "";
    return channel.is_im ? channel.name : "#" + channel.name;
  }

  function author(message) {
    const name = view.state.directory[message.user] || message.user;
    const isApp = message.user === view.state.bot.id || message.user === "USLACKBOT";
    return el("span", { class: "author" }, name, isApp ? el("span", { class: "app-badge", text: "APP" }) : null);
  }

  function time(ts) {
    const date = new Date(parseFloat(ts) * 1000);
    return el("time", { datetime: date.toISOString(), text: date.toISOString().slice(11, 16) });
  }

  function messageItem(message, { inThread = false } = {}) {
    const ctx = {
      ...context(),
      onAction: (block, element, value) => act({ message, block, element, value }),
    };
    const body = message.blocks && message.blocks.length
      ? renderBlocks(message.blocks, ctx)
      : BlockKit.mrkdwn(message.text, ctx);
    const replies = message.replies || [];
    return el("li", {
      class: "message" + (message.ephemeral ? " ephemeral" : "") + (message.ts === view.linkedTs ? " linked" : ""),
      "data-ts": message.ts,
    },
    el("div", { class: "meta" }, author(message), time(message.ts),
      message.edited ? el("span", { class: "edited", text: "(edited)" }) : null,
      message.broadcast && !inThread ? el("span", { class: "broadcast", text: "replied to a thread" }) : null),
    body,
    message.ephemeral ? el("div", { class: "only-you" }, el("span", { text: "Only visible to you" }),
      el("button", { type: "button", class: "link", onclick: () => post("/console/ephemeral/dismiss", { user_id: view.userId, ts: message.ts }) }, "Dismiss")) : null,
    !inThread && replies.length ? el("button", {
      type: "button", class: "link replies", onclick: () => { view.threadTs = message.ts; drawThread(); },
    }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`) : null);
  }

  function drawChannel() {
    const label = channelLabel();
    ui.title.textContent = label;
    ui.composerLabel.textContent = `Message ${label}`;
    const items = (view.state.messages[view.channelId] || []).filter((m) => !m.thread_ts || m.thread_ts === m.ts || m.broadcast || m.ephemeral);
    const atBottom = ui.messages.scrollHeight - ui.messages.scrollTop - ui.messages.clientHeight < 40;
    ui.messages.replaceChildren(...(items.length ? items.map((m) => messageItem(m))
      : [el("li", { class: "empty", text: "No messages yet. Try /release help" })]));
    if (atBottom) ui.messages.scrollTop = ui.messages.scrollHeight;
  }

  function drawThread() {
    const parent = view.threadTs && (view.state.messages[view.channelId] || []).find((m) => m.ts === view.threadTs);
    if (!parent) { ui.thread.hidden = true; view.threadTs = null; remember(); return; }
    remember();
    ui.thread.hidden = false;
    ui.threadTitle.textContent = `Thread in ${channelLabel()}`;
    ui.threadMessages.replaceChildren(messageItem(parent, { inThread: true }),
      ...(parent.replies || []).map((m) => messageItem(m, { inThread: true })));
  }

  function openChannel(channelId) {
    view.channelId = channelId;
    view.linkedTs = null;
    view.threadTs = null;
    markSeen(channelId);
    draw(view.state);
    ui.input.focus();
  }

  // -- buttons and confirm dialogs ------------------------------------------------------------

  function confirmFirst(confirm) {
    if (!confirm) return Promise.resolve(true);
    return new Promise((resolve) => {
      $("confirm-title").textContent = plain(confirm.title) || "Are you sure?";
      $("confirm-text").replaceChildren(textObject(confirm.text, context()));
      const ok = $("confirm-ok");
      const deny = $("confirm-deny");
      ok.textContent = plain(confirm.confirm) || "Yes";
      ok.className = confirm.style === "danger" ? "danger" : "primary";
      deny.textContent = plain(confirm.deny) || "Cancel";
      const finish = (answer) => {
        ok.onclick = deny.onclick = null;
        ui.confirm.onclose = null;
        if (ui.confirm.open) ui.confirm.close();
        resolve(answer);
      };
      ok.onclick = () => finish(true);
      deny.onclick = () => finish(false);
      ui.confirm.onclose = () => finish(false);
      ui.confirm.showModal();
      deny.focus();
    });
  }

  async function act({ message, block, element, value, viewId }) {
    if (!(await confirmFirst(element.confirm))) return;
    const body = { user_id: view.userId, action_id: element.action_id, block_id: block.block_id, value: value ?? null };
    if (viewId) body.view_id = viewId;
    else Object.assign(body, { channel_id: view.channelId, message_ts: message.ts });
    await post("/console/action", body);
  }

  // -- modals ---------------------------------------------------------------------------------

  function inputControl(block, viewId) {
    const element = block.element || {};
    const id = `in-${block.block_id}-${element.action_id}`;
    const errorId = id + "-error";
    const common = { id, name: id, "data-block": block.block_id, "data-action": element.action_id, "aria-describedby": errorId };
    const initial = element.initial_value ?? element.initial_date ?? element.initial_time ?? "";
    switch (element.type) {
      case "plain_text_input":
        return element.multiline ? el("textarea", { ...common, rows: 3 }, initial)
          : el("input", { ...common, type: "text", value: initial, placeholder: plain(element.placeholder) || null });
      case "number_input":
        return el("input", { ...common, type: "number", step: element.is_decimal_allowed ? "any" : "1", value: initial });
      case "email_text_input":
        return el("input", { ...common, type: "email", value: initial });
      case "url_text_input":
        return el("input", { ...common, type: "url", value: initial });
      case "datepicker":
        return el("input", { ...common, type: "date", value: initial });
      case "timepicker":
        return el("input", { ...common, type: "time", value: initial });
      case "datetimepicker": {
        const value = element.initial_date_time ? new Date(element.initial_date_time * 1000).toISOString().slice(0, 16) : "";
        return el("input", { ...common, type: "datetime-local", value });
      }
      case "static_select": case "radio_buttons": case "users_select": {
        const options = [...(element.options || []), ...(element.option_groups || []).flatMap((g) => g.options || [])];
        if (element.type === "users_select") {
          options.push(...view.state.people.map((p) => ({ value: p.id, text: { text: p.name } })));
        }
        const chosen = element.initial_option ? element.initial_option.value : element.initial_user || "";
        return el("select", common, el("option", { value: "", text: plain(element.placeholder) || "Choose…" }),
          options.map((o) => el("option", { value: o.value, selected: o.value === chosen, text: plain(o.text) })));
      }
      case "checkboxes": case "multi_static_select": {
        const chosen = new Set((element.initial_options || []).map((o) => o.value));
        return el("div", { ...common, role: "group", class: "choices", "data-kind": "many" },
          (element.options || []).map((o, i) => el("label", {},
            el("input", { type: "checkbox", value: o.value, id: `${id}-${i}`, checked: chosen.has(o.value) }), " ", plain(o.text))));
      }
      case "multi_users_select": {
        // The workspace's people (not the app), each a checkbox: pick any number.
        const chosen = new Set(element.initial_users || []);
        const people = view.state.people.filter((p) => p.id !== view.state.bot.id);
        return el("div", { ...common, role: "group", class: "choices people", "data-kind": "many" },
          people.map((p, i) => el("label", { class: "person" },
            el("input", { type: "checkbox", value: p.id, id: `${id}-${i}`, checked: chosen.has(p.id), "aria-label": "@" + p.name }),
            " @", p.name, p.title ? el("span", { class: "title", text: ` — ${p.title}` }) : null)));
      }
      default:
        return el("span", { class: "unsupported", text: `[${element.type}]` });
    }
  }

  function renderInput(block, viewId, errors) {
    const element = block.element || {};
    const control = inputControl(block, viewId);
    const id = `in-${block.block_id}-${element.action_id}`;
    const error = errors[block.block_id];
    if (error) control.setAttribute("aria-invalid", "true");
    const labelTag = control.getAttribute("role") === "group" ? "span" : "label";
    if (labelTag === "span") control.setAttribute("aria-labelledby", id + "-label");
    return el("div", { class: "bk-input" + (error ? " invalid" : ""), "data-block": block.block_id },
      el(labelTag, labelTag === "label" ? { for: id } : { id: id + "-label" }, plain(block.label),
        block.optional ? el("span", { class: "optional", text: " (optional)" }) : null),
      control,
      block.hint ? el("div", { class: "hint", text: plain(block.hint) }) : null,
      el("div", { class: "field-error", id: id + "-error", role: error ? "alert" : null, text: error || "" }));
  }

  function collectValues() {
    const values = {};
    for (const node of ui.modalBody.querySelectorAll("[data-block][data-action]")) {
      const block = node.dataset.block;
      const action = node.dataset.action;
      let value;
      if (node.dataset.kind === "many") value = [...node.querySelectorAll("input:checked")].map((i) => i.value);
      else value = node.value;
      (values[block] = values[block] || {})[action] = value;
    }
    return values;
  }

  function topModal() {
    const modals = view.state.modals;
    return modals.length ? modals[modals.length - 1] : null;
  }

  function drawModal() {
    const modal = topModal();
    if (!modal) {
      view.modalKey = null;
      if (ui.modal.open) ui.modal.close();
      return;
    }
    const key = modal.id + ":" + modal.hash;
    const errors = modal.errors || {};
    if (view.modalKey !== key) {
      view.modalKey = key;
      ui.modalTitle.textContent = plain(modal.title);
      ui.modalSubmit.hidden = !modal.submit;
      ui.modalSubmit.textContent = plain(modal.submit) || "Submit";
      ui.modalCancel.textContent = plain(modal.close) || (view.state.modals.length > 1 ? "Back" : "Cancel");
      const ctx = {
        ...context(),
        onAction: (block, element, value) => act({ block, element, value, viewId: modal.id }),
        renderInput: (block) => renderInput(block, modal.id, errors),
      };
      ui.modalBody.replaceChildren(renderBlocks(modal.blocks, ctx));
      if (!ui.modal.open) ui.modal.showModal();
      const first = ui.modalBody.querySelector("input, select, textarea, button");
      (first || ui.modalSubmit).focus();
    } else {
      // Same view: keep what was typed, only show the app's errors.
      for (const box of ui.modalBody.querySelectorAll(".bk-input")) {
        const error = errors[box.dataset.block] || "";
        box.classList.toggle("invalid", Boolean(error));
        const slot = box.querySelector(".field-error");
        slot.textContent = error;
        if (error) slot.setAttribute("role", "alert"); else slot.removeAttribute("role");
        box.querySelector("[data-action]")?.setAttribute("aria-invalid", String(Boolean(error)));
      }
    }
    const general = errors[""];
    ui.modalError.hidden = !general;
    ui.modalError.textContent = general || "";
    const firstInvalid = ui.modalBody.querySelector(".bk-input.invalid [data-action]");
    if (firstInvalid && !ui.modalBody.contains(document.activeElement)) firstInvalid.focus();
  }

  ui.modalForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const modal = topModal();
    if (!modal) return;
    ui.modalSubmit.disabled = true;
    try {
      await post("/console/view", { user_id: view.userId, view_id: modal.id, values: collectValues() });
    } finally {
      ui.modalSubmit.disabled = false;
    }
  });

  async function cancelModal() {
    const modal = topModal();
    if (modal) await post("/console/view/close", { user_id: view.userId, view_id: modal.id });
  }
  ui.modalCancel.addEventListener("click", cancelModal);
  ui.modal.addEventListener("cancel", (event) => { event.preventDefault(); cancelModal(); });

  // -- composer, user switcher, demo switch ---------------------------------------------------

  ui.composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (!text) return;
    ui.send.disabled = true;
    ui.input.setAttribute("aria-busy", "true");
    try {
      if (await post("/console/command", { user_id: view.userId, channel_id: view.channelId, text })) ui.input.value = "";
    } finally {
      ui.send.disabled = false;
      ui.input.removeAttribute("aria-busy");
      ui.input.focus();
    }
  });

  ui.user.addEventListener("change", () => {
    // Each person has their own place in the workspace, as in their own Slack window.
    view.channelByUser[view.userId] = view.channelId;
    view.userId = ui.user.value;
    // Someone new stays in the channel on screen (a DM is the other person's: start afresh), so
    // the composer never sends to no channel while the new person's state loads.
    view.channelId = view.channelByUser[view.userId] || (view.channelId.startsWith("D") ? "" : view.channelId);
    view.threadTs = null;
    view.modalKey = null;
    refresh();
  });

  ui.health.addEventListener("click", () => post("/console/demo/health", {}));
  $("thread-close").addEventListener("click", () => { view.threadTs = null; drawThread(); });

  refresh();
  listen();
})();
