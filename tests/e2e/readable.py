"""Checks a person would make by eye, made by the browser: the page fits the screen, text can
be read on its background in both themes, and axe-core finds no serious accessibility
problem (axe-playwright-python ships axe-core; nothing is fetched)."""

PHONE = {"width": 390, "height": 844}

# For each element: its text colour and the first non-transparent background behind it, and
# the WCAG contrast ratio between them.
CONTRAST_JS = """
(selector) => {
  const rgba = (s) => {
    const m = s.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const lum = ([r, g, b]) => {
    const c = [r, g, b].map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = rgba(getComputedStyle(e).backgroundColor);
      if (bg[3] > 0.5) return bg;
    }
    return rgba(getComputedStyle(document.documentElement).backgroundColor)[3] > 0
      ? rgba(getComputedStyle(document.documentElement).backgroundColor)
      : [255, 255, 255, 1];
  };
  return [...document.querySelectorAll(selector)]
    .filter((el) => el.offsetParent !== null && el.textContent.trim())
    .map((el) => {
      const fg = rgba(getComputedStyle(el).color), bg = background(el);
      const [a, b] = [lum(fg), lum(bg)];
      return {
        text: el.textContent.trim().slice(0, 40),
        color: getComputedStyle(el).color,
        background: `rgb(${bg.slice(0, 3).join(", ")})`,
        ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05),
      };
    });
}
"""


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def set_theme(page, theme: str) -> None:
    """Django admin's theme: "light" or "dark" as its toggle stores it; "os-dark" is the
    toggle left on "auto" with the operating system in dark mode."""
    page.emulate_media(color_scheme="dark" if theme == "os-dark" else "light")
    stored = "auto" if theme == "os-dark" else theme
    page.evaluate(f"localStorage.setItem('theme', '{stored}')")
    page.reload()


def page_is_dark(page) -> bool:
    """The page's own background is dark (the theme took effect)."""
    return page.evaluate(
        """() => {
          const m = getComputedStyle(document.body).backgroundColor.match(/\\d+/g).map(Number);
          return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) < 80;
        }"""
    )


def contrast(page, selector: str) -> list[dict]:
    return page.evaluate(CONTRAST_JS, selector)


def serious_violations(page) -> list[str]:
    """axe-core's serious and critical violations on the page, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def too_wide(page) -> list[str]:
    """The innermost elements reaching past the right edge (for a failing fit's message)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1
            && !el.parentElement.closest('.portal-scroll, pre')
            && ![...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
          .slice(0, 8)
          .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}: ${Math.round(el.getBoundingClientRect().right)}px`)"""
    )


def unnamed_controls(page, root: str = "body") -> list[str]:
    """Buttons and form fields under `root` with no accessible name (no aria-label, no label
    with text, no text of their own, no title)."""
    return page.evaluate(
        """(root) => [...document.querySelectorAll(`${root} button, ${root} select, ${root} textarea,
            ${root} input:not([type=hidden])`)]
          .filter((el) => !((el.getAttribute('aria-label') || '').trim()
            || [...(el.labels || [])].some((l) => l.textContent.trim())
            || (el.tagName === 'BUTTON' && el.textContent.trim())
            || el.getAttribute('title')))
          .map((el) => el.outerHTML.slice(0, 100))""",
        root,
    )
