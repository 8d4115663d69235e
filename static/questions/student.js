/* tcpquiz student pages: the exam timer, autosave that never loses work, the ordering widget,
   and focus after an answer is checked. Progressive enhancement: every page works without it. */
(function () {
  "use strict";

  var dirty = false;

  /* --- Timer: counts down from the server's seconds left; at zero the page reloads and the server
     closes the attempt (it refuses late answers whatever this clock says). */
  var ends = new WeakMap();
  var announced = {};
  var live = document.querySelector("[data-timer-live]");

  function pad(n) { return n < 10 ? "0" + n : String(n); }
  function clock(total) {
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
  }
  function say(key) {
    if (!live || announced[key]) return;
    announced[key] = true;
    live.textContent = live.getAttribute("data-" + key) || "";
  }
  function tick() {
    var timer = document.querySelector("[data-timer]");
    if (!timer) return;
    if (!ends.has(timer)) {
      ends.set(timer, Date.now() + 1000 * parseInt(timer.getAttribute("data-seconds-left"), 10));
    }
    var left = Math.max(0, Math.round((ends.get(timer) - Date.now()) / 1000));
    var value = timer.querySelector(".timer-value");
    if (value) value.textContent = clock(left);
    timer.classList.toggle("timer-low", left < 60);
    if (left <= 300 && left > 60) say("five");
    if (left <= 60 && left > 0) say("one");
    if (left === 0) {
      say("zero");
      clearInterval(interval);
      if (dirty) save(true);
      setTimeout(function () { window.location.reload(); }, 1500);
    }
  }
  var interval = setInterval(tick, 1000);
  tick();

  /* --- Autosave: htmx posts the draft on change; here we only make sure the last keystrokes are
     saved before leaving the page (a link in the attempt, closing the tab). */
  function currentForm() { return document.querySelector("form[data-autosave]"); }
  function save(beacon) {
    var form = currentForm();
    if (!form) return Promise.resolve();
    var data = new FormData(form);
    dirty = false;
    if (beacon && navigator.sendBeacon) {
      navigator.sendBeacon(form.getAttribute("action"), data);
      return Promise.resolve();
    }
    return fetch(form.getAttribute("action"), {
      method: "POST", body: data, credentials: "same-origin", keepalive: true,
      headers: { "HX-Request": "true" },
    }).catch(function () {});
  }
  function markDirty(event) {
    if (event.target.closest && event.target.closest("form[data-autosave]")) dirty = true;
  }
  document.addEventListener("submit", function (event) {
    if (event.target.matches && event.target.matches("form[data-autosave]")) dirty = false;
  });
  document.addEventListener("input", markDirty);
  document.addEventListener("change", markDirty);
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt === currentForm() && event.detail.successful) dirty = false;
  });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link || !dirty || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey) return;
    event.preventDefault();
    save(false).then(function () { window.location.href = link.href; });
  });
  window.addEventListener("pagehide", function () { if (dirty) save(true); });

  /* --- Ordering: ↑/↓ buttons (and Alt+↑/↓) move an item; the hidden inputs move with it. */
  function refreshOrder(list) {
    var items = list.querySelectorAll(".order-item");
    items.forEach(function (item, i) {
      item.querySelector('[data-move="up"]').disabled = i === 0;
      item.querySelector('[data-move="down"]').disabled = i === items.length - 1;
    });
  }
  function move(button, direction) {
    var item = button.closest(".order-item");
    var list = item.parentElement;
    var sibling = direction === "up" ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling) return;
    if (direction === "up") list.insertBefore(item, sibling); else list.insertBefore(sibling, item);
    refreshOrder(list);
    var again = item.querySelector('[data-move="' + direction + '"]');
    var other = item.querySelector('[data-move="' + (direction === "up" ? "down" : "up") + '"]');
    (again.disabled ? other : again).focus();
    var widget = item.closest("[data-order-widget]");
    var liveRegion = widget.querySelector("[data-order-live]");
    var items = Array.prototype.slice.call(list.children);
    if (liveRegion) {
      liveRegion.textContent = liveRegion.getAttribute("data-template")
        .replace("{item}", item.querySelector(".order-text").textContent)
        .replace("{position}", String(items.indexOf(item) + 1))
        .replace("{total}", String(items.length));
    }
    var owner = item.closest("form");
    if (owner) owner.dispatchEvent(new Event("change", { bubbles: true }));
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-order-widget] [data-move]");
    if (!button) return;
    event.preventDefault();
    move(button, button.getAttribute("data-move"));
  });
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) return;
    var item = event.target.closest && event.target.closest("[data-order-widget] .order-item");
    if (!item) return;
    event.preventDefault();
    move(item.querySelector('[data-move="' + (event.key === "ArrowUp" ? "up" : "down") + '"]'), event.key === "ArrowUp" ? "up" : "down");
  });

  /* --- After "Check answer" swaps the card: focus the result, or the first field if refused. */
  var focusCard = null;
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var target = event.detail.elt.getAttribute("hx-target");
    if (target === "#question-card" || target === "#practice-card") focusCard = target;
  });
  document.body.addEventListener("htmx:afterSettle", function () {
    if (!focusCard) return;
    var card = document.querySelector(focusCard);
    focusCard = null;
    if (!card) return;
    var alert = card.querySelector('[role="alert"]');
    var field = card.querySelector("input:not([type=hidden]), select, button");
    var answer = card.querySelector(".answer");
    var target = alert && field ? field : answer || card.querySelector("h2");
    if (target) {
      if (!target.hasAttribute("tabindex") && target === answer) target.setAttribute("tabindex", "-1");
      target.focus();
    }
  });
})();
