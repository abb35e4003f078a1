// Drawing one chat message (text with entities, media, keyboards, invoices) as DOM nodes.
// Plain script, no build step: defines window.Render for chat.js.
"use strict";

(function () {
  const TAGS = {
    bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre",
    blockquote: "blockquote", expandable_blockquote: "blockquote",
  };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    for (const child of children || []) if (child) node.append(child);
    return node;
  }

  function safeUrl(url) {
    return /^https?:\/\//i.test(url || "") ? url : null;
  }

  function entityNode(entity, piece, actions) {
    const tag = TAGS[entity.type];
    if (tag) return el(tag);
    if (entity.type === "spoiler") return el("span", { class: "spoiler" });
    const href = safeUrl(entity.type === "text_link" ? entity.url : piece);
    if ((entity.type === "text_link" || entity.type === "url") && href) {
      return el("a", { href, target: "_blank", rel: "noopener noreferrer" });
    }
    if (entity.type === "bot_command") {
      return el("a", { class: "cmd", onclick: () => actions.send(piece) });
    }
    return el("span");
  }

  // Entities nest (they come from HTML); offsets are UTF-16 units, as JS strings count.
  function richText(text, entities, actions) {
    const root = el("span");
    const sorted = [...(entities || [])].sort(
      (a, b) => a.offset - b.offset || b.length - a.length);
    const stack = [{ node: root, end: Infinity }];
    let at = 0;
    const flush = (until) => {
      if (until > at) stack[stack.length - 1].node.append(text.slice(at, until));
      at = Math.max(at, until);
    };
    for (const entity of sorted) {
      while (stack.length > 1 && stack[stack.length - 1].end <= entity.offset) {
        flush(stack[stack.length - 1].end);
        stack.pop();
      }
      flush(entity.offset);
      const end = entity.offset + entity.length;
      const node = entityNode(entity, text.slice(entity.offset, end), actions);
      stack[stack.length - 1].node.append(node);
      stack.push({ node, end });
    }
    while (stack.length > 1) {
      flush(stack[stack.length - 1].end);
      stack.pop();
    }
    flush(text.length);
    return root;
  }

  function media(m) {
    if (!m.file) return null;
    const src = m.file.url;
    if (m.kind === "photo") return el("img", { src, alt: "photo", loading: "lazy" });
    if (m.kind === "video") return el("video", { src, controls: "", preload: "metadata" });
    if (m.kind === "audio" || m.kind === "voice") return el("audio", { src, controls: "" });
    const name = m.file.file_name || "file";
    return el("a", { href: src, download: name, text: `📄 ${name}` });
  }

  function keyboard(m, actions) {
    const rows = (m.reply_markup || {}).inline_keyboard;
    if (!rows || !m.from_bot) return null;
    return el("div", { class: "kb" }, rows.map((row) => el("div", { class: "row" },
      row.map((b) => {
        if (b.url) {
          return el("a", { href: b.url, target: "_blank", rel: "noopener", text: b.text });
        }
        const button = el("button", { type: "button", text: b.text });
        button.addEventListener("click", () => actions.click(m, b, button));
        return button;
      }))));
  }

  function invoice(m, actions) {
    const inv = m.invoice;
    const stars = inv.currency === "XTR" ? `${inv.total_amount} ⭐` :
      `${inv.total_amount} ${inv.currency}`;
    const pay = el("button", { class: "pay", type: "button", text: `Pay ${stars} (test Stars)` });
    pay.addEventListener("click", () => actions.pay(m, pay));
    return el("div", { class: "invoice" }, [
      el("div", { class: "title", text: inv.title }),
      el("div", { text: inv.description }),
      el("div", { class: "amount", text: stars }),
      pay,
    ]);
  }

  function time(m) {
    const at = new Date(m.date * 1000).toLocaleTimeString([], {
      hour: "2-digit", minute: "2-digit" });
    return el("div", { class: "meta", text: m.edits ? `edited · ${at}` : at });
  }

  function message(m, actions) {
    if (m.successful_payment) {
      const paid = m.successful_payment;
      return el("div", { class: "service", "data-id": m.message_id,
        text: `You paid ${paid.total_amount} ⭐ (test Stars)` });
    }
    const body = m.invoice ? invoice(m, actions) : richText(
      m.text ?? m.caption ?? "", m.entities || m.caption_entities, actions);
    const bubble = el("div", { class: "bubble" }, [media(m), body, time(m)]);
    return el("div", {
      class: m.from_bot ? "msg bot" : "msg mine", "data-id": m.message_id,
      "data-from": m.from_bot ? "bot" : "user",
    }, [bubble, keyboard(m, actions)]);
  }

  window.Render = { el, message, richText };
})();
