// The sandbox chat page: act as a test user towards the bot through the Telegram emulator's
// /_emulator/ controls, and long-poll the chat for the bot's answers.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  const { el, message } = window.Render;
  const USER_KEY = "trt-sandbox-user";
  const state = {
    user: null, users: [], version: "", drawn: new Map(), seen: new Set(), poll: null,
    limits: { upload: 50 * 1048576, photo: 10 * 1048576 }, commands: [],
  };

  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers["Content-Type"] = "application/json";
    }
    const answer = await fetch(path, init);
    const data = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(data.error || `${answer.status} ${answer.statusText}`);
    return data;
  }

  function toast(text, kind) {
    const node = el("div", { class: `toast ${kind || ""}`, text });
    $("toasts").append(node);
    setTimeout(() => node.remove(), kind === "alert" ? 6000 : 3500);
  }

  const fail = (error) => toast(error.message || String(error), "error");

  // --- users -------------------------------------------------------------------------

  async function loadUsers() {
    state.users = await api("GET", "/_emulator/users");
    const wanted = Number(localStorage.getItem(USER_KEY));
    const known = state.users.find((u) => u.id === wanted) || state.users[0];
    $("user").replaceChildren(...state.users.map((u) => el("option", {
      value: u.id, text: `${u.first_name} · ${u.id}` })));
    if (known) await selectUser(known.id);
  }

  async function selectUser(id) {
    state.user = state.users.find((u) => u.id === id);
    localStorage.setItem(USER_KEY, String(id));
    $("user").value = String(id);
    $("language").value = state.user.language_code || "en";
    state.version = "";
    state.drawn.clear();
    state.seen = new Set();
    $("messages").replaceChildren($("empty-hint"));  // another user's chat: only the hint
    $("text").value = sessionStorage.getItem(draftKey()) || "";
    await loadBot();
    restartPolling();
  }

  async function addUser() {
    const name = prompt("First name of the new test user", "Dana");
    if (!name) return;
    const id = Math.max(1000, ...state.users.map((u) => u.id)) + 1;
    const language = $("language").value;
    await api("POST", "/_emulator/users", { id, first_name: name, language_code: language });
    localStorage.setItem(USER_KEY, String(id));
    await loadUsers();
  }

  async function setLanguage() {
    const language = $("language").value;
    await api("POST", "/_emulator/users", { id: state.user.id, language_code: language });
    state.user.language_code = language;
    await loadBot();
  }

  async function loadBot() {
    const lang = encodeURIComponent(state.user.language_code || "");
    const bot = await api("GET", `/_emulator/bot?language_code=${lang}`);
    $("bot-name").textContent = `${bot.first_name} (@${bot.username})`;
    state.commands = bot.commands || [];
    if (bot.limits) state.limits = bot.limits;
  }

  const draftKey = () => `trt-sandbox-draft-${state.user && state.user.id}`;

  // --- the chat ----------------------------------------------------------------------

  function restartPolling() {
    if (state.poll) state.poll.abort();
    const control = new AbortController();
    state.poll = control;
    poll(state.user.id, control.signal);
  }

  async function poll(userId, signal) {
    while (!signal.aborted) {
      const query = `version=${encodeURIComponent(state.version)}&timeout=25`;
      try {
        const answer = await fetch(`/_emulator/chats/${userId}/updates?${query}`, { signal });
        if (!answer.ok) throw new Error(`${answer.status}`);
        const chat = await answer.json();
        if (!signal.aborted) draw(chat);
      } catch (error) {
        if (signal.aborted) return;
        document.body.classList.add("offline");
        await new Promise((resolve) => setTimeout(resolve, 1000)); // the sandbox went away
      }
    }
  }

  const actions = {
    send: (text) => sendText(text),
    click: (m, button, node) => press(m, button, node),
    pay: (m, node) => pay(m, node),
  };

  function draw(chat) {
    document.body.classList.remove("offline");
    const box = $("messages");
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
    const first = state.version === "";
    state.version = chat.version;
    for (const m of chat.messages) {
      const key = `${m.edits}.${m.deleted}`;
      const drawn = state.drawn.get(m.message_id);
      if (drawn && drawn.key === key) continue;
      const node = m.deleted ? null : message(m, actions);
      if (drawn && drawn.node) {
        if (node) drawn.node.replaceWith(node); else drawn.node.remove();
      } else if (node) box.append(node);
      state.drawn.set(m.message_id, { key, node });
    }
    for (const notice of chat.notices) {
      if (!state.seen.has(notice.id) && !first) toast(notice.text, notice.alert ? "alert" : "");
      state.seen.add(notice.id);
    }
    // An empty chat says how to begin; the first message replaces the hint.
    $("empty-hint").hidden = chat.messages.some((m) => !m.deleted);
    if (atBottom || first) box.scrollTop = box.scrollHeight;
  }

  async function sendText(text) {
    await api("POST", `/_emulator/users/${state.user.id}/messages`, { text });
  }

  async function press(m, button, node) {
    node.classList.add("busy");
    try {
      await api("POST", `/_emulator/users/${state.user.id}/clicks`,
        { message_id: m.message_id, callback_data: button.callback_data });
    } catch (error) { fail(error); } finally { node.classList.remove("busy"); }
  }

  async function pay(m, node) {
    node.disabled = true;
    try {
      const paid = await api("POST", `/_emulator/users/${state.user.id}/payments`,
        { message_id: m.message_id });
      if (paid.ok) toast(`Paid ${paid.total_amount} ⭐ with test Stars`);
      else toast(`Payment refused: ${paid.error_message}`, "error");
    } catch (error) { fail(error); } finally { node.disabled = false; }
  }

  // --- the composer ------------------------------------------------------------------

  function kindOf(file) {
    if (/^image\/(png|jpeg|gif|webp)$/.test(file.type)) return "photo";
    if (file.type.startsWith("video/")) return "video";
    if (file.type.startsWith("audio/")) return "audio";
    return "document";
  }

  function refusal(file, kind) {
    const mb = (bytes) => `${Math.round(bytes / 1048576)} MB`;
    if (file.size > state.limits.upload) return `${file.name} is over ${mb(state.limits.upload)}`;
    if (kind === "photo" && file.size > state.limits.photo) {
      return `a photo is at most ${mb(state.limits.photo)}: ${file.name} is too big`;
    }
    return null;
  }

  async function upload(file, caption) {
    const kind = kindOf(file);
    const refused = refusal(file, kind);
    if (refused) throw new Error(refused);
    const form = new FormData();
    form.append("kind", kind);
    if (caption) form.append("caption", caption);
    form.append("file", file, file.name);
    await api("POST", `/_emulator/users/${state.user.id}/files`, form);
  }

  async function submit(event) {
    event.preventDefault();
    const text = $("text").value.trim();
    const file = $("file").files[0];
    if (!text && !file) return;
    try {
      if (file) await upload(file, text); else await sendText(text);
      $("text").value = "";
      $("file").value = "";
      sessionStorage.removeItem(draftKey());
    } catch (error) { fail(error); }
  }

  function toggleCommands() {
    const box = $("commands");
    box.hidden = !box.hidden || state.commands.length === 0;
    if (state.commands.length === 0) toast("The bot has set no commands; try /start");
    box.replaceChildren(...state.commands.map((c) => el("div", {
      onclick: () => { box.hidden = true; sendText(`/${c.command}`).catch(fail); },
    }, [el("b", { text: `/${c.command}` }), ` — ${c.description}`])));
  }

  function wire() {
    $("composer").addEventListener("submit", submit);
    $("user").addEventListener("change", () => selectUser(Number($("user").value)).catch(fail));
    $("language").addEventListener("change", () => setLanguage().catch(fail));
    $("add-user").addEventListener("click", () => addUser().catch(fail));
    $("menu").addEventListener("click", toggleCommands);
    $("text").addEventListener("input", () =>
      sessionStorage.setItem(draftKey(), $("text").value));
    $("file").addEventListener("change", () => {
      const file = $("file").files[0];
      if (file) toast(`${file.name} attached: press Send (the text becomes its caption)`);
    });
  }

  wire();
  loadUsers().catch(fail);
})();
