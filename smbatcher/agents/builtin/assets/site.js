/* Mobile menu and copy-to-clipboard. The page works without this file:
   the menu stays open and the email address stays visible. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  var toggle = document.querySelector(".nav-toggle");
  var nav = document.getElementById("site-nav");
  if (toggle && nav) {
    var setOpen = function (open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      nav.classList.toggle("is-open", open);
    };
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    nav.addEventListener("click", function (event) {
      if (event.target.closest("a")) {
        setOpen(false);
      }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        toggle.focus();
      }
    });
  }

  var copyButton = document.querySelector(".copy-button");
  var status = document.querySelector(".copy-status");
  if (copyButton) {
    copyButton.addEventListener("click", function () {
      var target = document.getElementById(copyButton.getAttribute("data-copy-target"));
      if (!target) {
        return;
      }
      var text = target.textContent.trim();
      var announce = function (message) {
        if (status) {
          status.textContent = message;
        }
      };
      var selectText = function () {
        var range = document.createRange();
        range.selectNodeContents(target);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        announce("Address selected: press Ctrl+C or Cmd+C to copy it.");
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          announce("Copied " + text + " to the clipboard.");
        }, selectText);
      } else {
        selectText();
      }
    });
  }
})();
