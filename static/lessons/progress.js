/* A signed-in student who scrolls to the end of a lesson has finished it: the page posts the same
   "mark as done" form the button submits (with its CSRF token), once, and says so. Without this
   script the button still works. */
(function () {
  "use strict";

  function start() {
    var form = document.querySelector("form[data-lesson-done]");
    var end = document.getElementById("lesson-end");
    if (!form || !end || !("IntersectionObserver" in window) || !window.fetch) return;
    var sent = false;
    var observer = new IntersectionObserver(function (entries) {
      if (sent || !entries.some(function (entry) { return entry.isIntersecting; })) return;
      sent = true;
      observer.disconnect();
      var token = form.querySelector("input[name=csrfmiddlewaretoken]");
      fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": token ? token.value : "" },
      })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          var status = document.querySelector("[data-lesson-status]");
          var done = status ? status.getAttribute("data-done-text") : "";
          var note = document.createElement("p");
          note.className = "done-note";
          note.setAttribute("data-testid", "lesson-done");
          note.textContent = done;
          form.replaceWith(note);
          if (status) status.textContent = done;
        })
        .catch(function () {
          sent = false; // the button still works; try again on the next visit
        });
    }, { threshold: 0.6 });
    observer.observe(end);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
