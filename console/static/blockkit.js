// Block Kit and mrkdwn to DOM nodes. Text always goes through text nodes, never innerHTML,
// so whatever the bot sends is shown, not executed.
"use strict";

const BlockKit = (() => {
  const el = (tag, props = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };

  // Slack escapes only these three in message text.
  const unescape = (text) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

  // Slack's shortcodes (emoji.js, generated from iamcal's emoji-data, the table Slack uses);
  // a code Slack does not know stays as typed, as in Slack.
  const EMOJI = new Map(
    (typeof EMOJI_SHORTCODES === "string" ? EMOJI_SHORTCODES : "").split(";").filter(Boolean).map((pair) => {
      const [name, code] = pair.split("=");
      return [name, String.fromCodePoint(...code.split("-").map((hex) => parseInt(hex, 16)))];
    }));

  // Atoms are found first and never formatted inside: code spans, <links>, :emoji: (so the
  // underscores in :white_check_mark: are not italics). Slack formats *bold*, _italic_ and
  // ~strike~ only at word boundaries: the opening mark follows the start or a non-word
  // character and comes before a non-space; the closing mark follows a non-space and is not
  // followed by a word character. So snake_case, R-1rollout0_1 and 2*3*4 stay as typed.
  const ATOM = /(`[^`\n]+`)|(<[^<>\n]+>)|(:[a-z0-9_+'-]+:)/;
  const STYLE = /(?<![\p{L}\p{N}_*~`])([*_~])(?![\s*_~])((?:(?!\1)[^\n])*?[^\s])\1(?![\p{L}\p{N}_])/u;
  const TAGS = { "*": "strong", _: "em", "~": "s" };

  // Without a colour emoji font (a bare CI machine) the glyphs are empty boxes: keep the codes.
  const canDrawEmoji = (() => {
    try {
      const canvas = document.createElement("canvas");
      canvas.width = canvas.height = 16;
      const pen = canvas.getContext("2d", { willReadFrequently: true });
      pen.textBaseline = "top";
      pen.font = "14px sans-serif";
      pen.fillText("\u{1F680}", 0, 0);
      const pixels = pen.getImageData(0, 0, 16, 16).data;
      for (let i = 0; i < pixels.length; i += 4) {
        if (pixels[i + 3] && (pixels[i] !== pixels[i + 1] || pixels[i + 1] !== pixels[i + 2])) return true;
      }
      return false;
    } catch (error) {
      return false;
    }
  })();

  function emoji(token) {
    const glyph = canDrawEmoji && EMOJI.get(token.slice(1, -1));
    return glyph ? el("span", { class: "emoji", title: token, "aria-label": token, text: glyph })
      : document.createTextNode(token);
  }

  function link(token, ctx) {
    const inner = token.slice(1, -1);
    const [target, label] = inner.split("|", 2);
    if (target.startsWith("@")) {
      const id = target.slice(1);
      return el("span", { class: "mention", "data-user": id, text: "@" + (ctx.directory[id] || label || id) });
    }
    if (target.startsWith("#")) {
      const id = target.slice(1);
      return el("span", { class: "mention", text: "#" + (label || ctx.channelNames[id] || id) });
    }
    if (target.startsWith("!subteam^")) {
      const id = target.slice("!subteam^".length);
      const handle = ctx.usergroups[id];
      return el("span", { class: "mention", text: label || (handle ? "@" + handle : "@" + id) });
    }
    if (target.startsWith("!date^")) return document.createTextNode(unescape(label || target));
    if (target.startsWith("!")) return el("span", { class: "mention", text: "@" + target.slice(1) });
    if (/^(https?:|mailto:)/i.test(target)) {
      const href = unescape(target);
      // A permalink into this console opens the message here; anything else in a new tab.
      const onclick = ctx.openPermalink ? (event) => { if (ctx.openPermalink(href)) event.preventDefault(); } : null;
      return el("a", { href, target: "_blank", rel: "noopener noreferrer", onclick, text: unescape(label || target) });
    }
    return document.createTextNode(unescape(token));
  }

  function inline(text, ctx, parent) {
    let rest = text;
    while (rest) {
      const atom = ATOM.exec(rest);
      const style = STYLE.exec(rest);
      // The first to start wins; an atom wins a tie and a style span may hold atoms.
      const styleFirst = Boolean(style && (!atom || style.index < atom.index));
      const match = styleFirst ? style : atom;
      if (!match) { parent.append(unescape(rest)); break; }
      if (match.index > 0) parent.append(unescape(rest.slice(0, match.index)));
      const token = match[0];
      if (styleFirst) parent.append(inline(match[2], ctx, el(TAGS[match[1]])));
      else if (match[1]) parent.append(el("code", { text: unescape(token.slice(1, -1)) }));
      else if (match[2]) parent.append(link(token, ctx));
      else parent.append(emoji(token));
      rest = rest.slice(match.index + token.length);
    }
    return parent;
  }

  // mrkdwn basics: ```pre```, bullet lines, then inline formatting per line.
  function mrkdwn(text, ctx) {
    const box = el("div", { class: "mrkdwn" });
    const parts = String(text || "").split("```");
    parts.forEach((part, index) => {
      if (index % 2 === 1) { box.append(el("pre", { text: unescape(part.replace(/^\n/, "")) })); return; }
      let list = null;
      part.split("\n").forEach((line, lineIndex, lines) => {
        const bullet = /^\s*[•\-*]\s+(.*)$/.exec(line);
        if (bullet && !/^\s*\*[^*]+\*\s*$/.test(line)) {
          if (!list) { list = el("ul"); box.append(list); }
          list.append(inline(bullet[1], ctx, el("li")));
          return;
        }
        list = null;
        const quote = /^(?:&gt;|>)\s?(.*)$/.exec(line);
        if (quote) { box.append(inline(quote[1], ctx, el("blockquote"))); return; }
        if (line) box.append(inline(line, ctx, el("span")));
        if (lineIndex < lines.length - 1) box.append(el("br"));
      });
    });
    return box;
  }

  function textObject(obj, ctx) {
    if (!obj) return el("span");
    if (typeof obj === "string") return el("span", { text: obj });
    if (obj.type === "mrkdwn") return mrkdwn(obj.text, ctx);
    return el("span", { class: "plain", text: obj.text || "" });
  }

  const plain = (obj) => (obj && (typeof obj === "string" ? obj : obj.text)) || "";

  function button(element, block, ctx) {
    const style = element.style === "primary" || element.style === "danger" ? element.style : "";
    return el("button", {
      type: "button",
      class: "bk-button " + style,
      "data-action-id": element.action_id,
      onclick: () => ctx.onAction(block, element, element.value),
    }, plain(element.text));
  }

  function select(element, block, ctx, label) {
    const options = [...(element.options || []), ...(element.option_groups || []).flatMap((g) => g.options || [])];
    const control = el("select", {
      "aria-label": label || plain(element.placeholder) || "Choose",
      "data-action-id": element.action_id,
      onchange: (event) => ctx.onAction(block, element, event.target.value),
    }, el("option", { value: "", text: plain(element.placeholder) || "Choose…" }),
    options.map((o) => el("option", { value: o.value, text: plain(o.text) })));
    return control;
  }

  function accessoryOrElement(element, block, ctx) {
    if (!element) return null;
    if (element.type === "button") return button(element, block, ctx);
    if (element.type === "image") return el("span", { class: "image-alt", text: `[image: ${element.alt_text || ""}]` });
    if (element.type === "static_select" || element.type === "overflow") return select(element, block, ctx);
    return el("span", { class: "unsupported", text: `[${element.type}]` });
  }

  function renderBlock(block, ctx) {
    switch (block.type) {
      case "header":
        return el("h3", { class: "bk-header" }, plain(block.text));
      case "divider":
        return el("hr", { class: "bk-divider" });
      case "image":
        return el("div", { class: "bk-image" }, block.title ? el("div", { text: plain(block.title) }) : null,
          el("span", { class: "image-alt", text: `[image: ${block.alt_text || ""}]` }));
      case "context":
        return el("div", { class: "bk-context" }, (block.elements || []).map((item) =>
          item.type === "image" ? el("span", { class: "image-alt", text: `[image: ${item.alt_text || ""}]` }) : textObject(item, ctx)));
      case "actions":
        return el("div", { class: "bk-actions", role: "group", "aria-label": "Actions" },
          (block.elements || []).map((element) => accessoryOrElement(element, block, ctx)));
      case "section": {
        const body = el("div", { class: "bk-section-body" },
          block.text ? textObject(block.text, ctx) : null,
          block.fields ? el("div", { class: "bk-fields" }, block.fields.map((f) => textObject(f, ctx))) : null);
        return el("div", { class: "bk-section" }, body, accessoryOrElement(block.accessory, block, ctx));
      }
      case "input":
        return ctx.renderInput ? ctx.renderInput(block) : null;
      case "rich_text":
        return el("div", { class: "bk-rich", text: "[rich text]" });
      default:
        return el("div", { class: "unsupported", text: `[unsupported block: ${block.type}]` });
    }
  }

  function renderBlocks(blocks, ctx) {
    return el("div", { class: "blocks" }, (blocks || []).map((block) => renderBlock(block, ctx)));
  }

  return { el, mrkdwn, plain, renderBlocks, textObject };
})();
