/* Step-through player for the engine's scenarios. Progressive enhancement: without this script the
   page shows the full ladder diagram and the table of steps; with it, each scenario gets a player
   (Previous / Next buttons, ← → Home End keys while it has focus, announced through aria-live).
   Every string shown comes from the page (translated there); the frames come from the engine. */
(function () {
  "use strict";

  var SVG_NS = "http://www.w3.org/2000/svg";

  function text(el, value) {
    el.textContent = value == null ? "" : String(value);
  }

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : "";
    });
  }

  /* The ladder's step labels ("step 3" / "步骤 3", written at x=16): where each frame starts. */
  function ladderRows(svg) {
    var rows = {};
    if (!svg) return rows;
    var labels = svg.querySelectorAll("text");
    for (var i = 0; i < labels.length; i++) {
      var label = labels[i];
      if (label.getAttribute("x") !== "16") continue;
      var match = /(\d+)\s*$/.exec(label.textContent || "");
      if (match) rows[Number(match[1])] = parseFloat(label.getAttribute("y")) - 18;
    }
    return rows;
  }

  function setupLadder(section) {
    var svg = section.querySelector("[data-ladder] svg");
    if (!svg) return null;
    var rows = ladderRows(svg);
    var box = svg.viewBox && svg.viewBox.baseVal;
    if (!box || !Object.keys(rows).length) return null;
    var band = document.createElementNS(SVG_NS, "rect");
    band.setAttribute("x", "0");
    band.setAttribute("width", String(box.width));
    band.setAttribute("fill", "#fff1b8");
    band.setAttribute("class", "ladder-current");
    band.setAttribute("aria-hidden", "true");
    var background = svg.querySelector("rect");
    if (background && background.nextSibling) svg.insertBefore(band, background.nextSibling);
    else svg.appendChild(band);
    return function show(number) {
      var top = rows[number];
      if (top == null) {
        band.setAttribute("height", "0");
        return;
      }
      var next = rows[number + 1];
      var bottom = next != null ? next : box.height - 16;
      band.setAttribute("y", String(top));
      band.setAttribute("height", String(Math.max(0, bottom - top)));
    };
  }

  function Player(root) {
    var source = document.getElementById(root.getAttribute("data-frames"));
    if (!source) return;
    var frames = JSON.parse(source.textContent || "[]");
    if (!frames.length) return;
    var section = root.closest("section") || root.parentNode;
    var prev = root.querySelector("[data-prev]");
    var next = root.querySelector("[data-next]");
    var live = root.querySelector("[data-live]");
    var position = root.querySelector("[data-position]");
    var caption = root.querySelector("[data-caption]");
    var wire = root.querySelector("[data-wire]");
    var endpoints = root.querySelectorAll("[data-endpoint]");
    var strings = {
      position: root.getAttribute("data-text-position") || "{n} / {total}",
      nothing: root.getAttribute("data-text-nothing") || "",
    };
    var showLadder = setupLadder(section);
    var rows = section.querySelectorAll("tr[data-frame]");
    var index = 0;

    function render(announce) {
      var frame = frames[index];
      var where = format(strings.position, { n: index + 1, total: frames.length });
      text(position, where);
      text(caption, frame.text);
      frame.endpoints.forEach(function (endpoint, i) {
        var card = endpoints[i];
        if (!card) return;
        text(card.querySelector(".endpoint-name"), endpoint.name);
        text(card.querySelector(".endpoint-state"), endpoint.state);
        text(card.querySelector(".endpoint-local"), endpoint.local || "");
        text(card.querySelector(".endpoint-error"), endpoint.error || "");
        card.classList.toggle("is-changed", !!endpoint.changed);
      });
      wire.textContent = "";
      if (!frame.segments.length) {
        var empty = document.createElement("li");
        empty.className = "wire-empty";
        text(empty, strings.nothing);
        wire.appendChild(empty);
      } else {
        frame.segments.forEach(function (seg) {
          var item = document.createElement("li");
          item.className = "wire-segment fate-" + seg.fate + (seg.rightward ? " is-rightward" : " is-leftward");
          var arrow = document.createElement("span");
          arrow.className = "wire-arrow";
          arrow.setAttribute("aria-hidden", "true");
          var label = document.createElement("code");
          text(label, seg.label);
          var fate = document.createElement("span");
          fate.className = "wire-fate";
          text(fate, seg.from + " → " + seg.to + " · " + seg.fate_text);
          item.appendChild(label);
          item.appendChild(arrow);
          item.appendChild(fate);
          wire.appendChild(item);
        });
      }
      prev.setAttribute("aria-disabled", index === 0 ? "true" : "false");
      next.setAttribute("aria-disabled", index === frames.length - 1 ? "true" : "false");
      for (var r = 0; r < rows.length; r++) {
        var current = rows[r].getAttribute("data-frame") === String(frame.number);
        rows[r].classList.toggle("is-current", current);
        if (current) rows[r].setAttribute("aria-current", "step");
        else rows[r].removeAttribute("aria-current");
      }
      if (showLadder) showLadder(frame.number);
      if (announce) text(live, frame.spoken);
    }

    function go(to) {
      var target = Math.max(0, Math.min(frames.length - 1, to));
      if (target === index) return;
      index = target;
      render(true);
    }

    prev.addEventListener("click", function () {
      go(index - 1);
    });
    next.addEventListener("click", function () {
      go(index + 1);
    });
    root.addEventListener("keydown", function (event) {
      if (event.altKey || event.ctrlKey || event.metaKey) return;
      var keys = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: frames.length - 1 };
      if (!Object.prototype.hasOwnProperty.call(keys, event.key)) return;
      event.preventDefault();
      go(keys[event.key]);
    });

    root.hidden = false;
    var steps = section.querySelector("details[data-steps]");
    if (steps) steps.open = false;
    render(false);
  }

  function start() {
    var players = document.querySelectorAll("[data-player]");
    for (var i = 0; i < players.length; i++) new Player(players[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
