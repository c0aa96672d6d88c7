"""What the browser tests share: Chromium's whereabouts, the hostile store, a watcher, a wait."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from graph_service.backends.embedded import EmbeddedStore
from graph_service.core.ontology import Basis, Provenance, Relationship, RelType, Society
from loaders.load import WENZHOU_DATASET, load_dataset

CHROMIUM = os.environ.get("INNOGRAPH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HOW_TO = (
    "Browser tests drive Debian's Chromium at /usr/bin/chromium (apt-get install chromium) "
    "through Python Playwright; set INNOGRAPH_CHROMIUM to use another binary. "
    "Never run 'playwright install': the suite uses the system browser."
)
IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "</script><script>alert(1)</script>"
HOSTILE = Provenance(source="test", evidence=f"said by {SCRIPT} <b>bold</b>", basis=Basis.STATED)


def hostile_store() -> EmbeddedStore:
    """The bundled Wenzhou data plus two societies named like attacks, serving the electrical cluster."""
    store = EmbeddedStore(None)
    load_dataset(WENZHOU_DATASET, store)
    store.upsert_nodes(
        [
            Society(id="society:xss-img", name=IMG, name_zh="图片学会", provenance=HOSTILE),
            Society(
                id="society:xss-script", name=SCRIPT, provenance=HOSTILE, description="javascript:alert(2)"
            ),
        ]
    )
    store.upsert_relationships(
        [
            Relationship(
                source=s, type=RelType.SERVES, target="industry:wenzhou-5-5:electrical", provenance=HOSTILE
            )
            for s in ("society:xss-img", "society:xss-script")
        ]
    )
    return store


@dataclass
class Watch:
    """What a page did that it should not have."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    def assert_clean(self, page: Any) -> None:
        """No console error, exception, dialog, request outside, or policy violation."""
        violations = page.evaluate("window.__violations || []")
        for frame in page.frames[1:]:
            if loaded(frame):
                violations += frame.evaluate("window.__violations || []")
        assert not self.outside, f"requests left the app: {self.outside}"
        assert not self.dialogs, f"a dialog opened (injected script ran?): {self.dialogs}"
        assert not violations, f"Content-Security-Policy violations: {violations}"
        assert not self.errors, f"console errors: {self.errors}"


def loaded(frame: Any) -> bool:
    """Whether a frame has loaded a document: evaluating in a lazy frame that never loads (one
    below the fold) would wait forever."""
    if frame.is_detached() or frame.url in ("", "about:blank"):
        return False
    try:
        frame.wait_for_load_state("load", timeout=5000)
    except Exception:
        return False
    return True


def load_frames(page: Any) -> None:
    """Bring every iframe of a page into view, so that lazy ones load, and wait for them."""
    for element in page.locator("iframe").all():
        element.scroll_into_view_if_needed()
    for frame in page.frames[1:]:
        frame.wait_for_load_state("load", timeout=15000)


def wait_ready(frame: Any, timeout: float = 15000) -> None:
    """Wait until a view has drawn its graph."""
    frame.wait_for_function("() => window.__innograph && window.__innograph.ready === true", timeout=timeout)
