import hashlib
import pickle

import pytest
import torch

from photogen.core import weights as W


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PHOTOGEN_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def remote(tmp_path):
    """A weights file served through a file:// URL, as a download would be."""
    path = tmp_path / "remote" / "tiny-abcdef12.pth"
    path.parent.mkdir()
    torch.save({"w": torch.arange(4.0)}, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return path, digest


def _entry(name, url, sha):
    return W.register(W.WeightsEntry(name=name, filename="tiny.pth", url=url, sha256=sha))


def test_download_verify_and_cache(home, remote):
    path, digest = remote
    _entry("tiny-ok", path.as_uri(), digest[:8])
    local = W.resolve("tiny-ok")
    assert local == home / "weights" / "tiny.pth"
    assert torch.equal(W.load_state_dict("tiny-ok")["w"], torch.arange(4.0))
    path.unlink()  # second call uses the cache, no network
    assert W.resolve("tiny-ok") == local


def test_checksum_mismatch_discards_file(home, remote):
    path, _ = remote
    _entry("tiny-bad", path.as_uri(), "00000000")
    with pytest.raises(W.WeightsError, match="does not match"):
        W.resolve("tiny-bad")
    assert not (home / "weights" / "tiny.pth").exists()


def test_offline_error_names_file_url_and_place(home):
    url = "http://127.0.0.1:9/unreachable/tiny.pth"
    _entry("tiny-offline", url, "12345678")
    with pytest.raises(W.WeightsError) as err:
        W.resolve("tiny-offline")
    msg = str(err.value)
    assert "tiny.pth" in msg and url in msg and str(home / "weights" / "tiny.pth") in msg
    assert "\n" not in msg


def test_local_path_always_accepted(tmp_path):
    p = tmp_path / "mine.safetensors"
    W.save_safetensors({"a": torch.ones(2, 3)}, p)
    assert torch.equal(W.load_state_dict(p)["a"], torch.ones(2, 3))


def test_unknown_name_lists_known():
    with pytest.raises(W.WeightsError, match="known"):
        W.resolve("no-such-weights")


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_foreign_pickles_are_not_executed(tmp_path):
    p = tmp_path / "evil.pth"
    p.write_bytes(pickle.dumps({"x": Evil()}))
    with pytest.raises(W.WeightsError, match="cannot load"):
        W.load_state_dict(p)


def test_install_by_hand_checks_hash(home, remote):
    path, digest = remote
    _entry("tiny-hand", None, digest)
    assert W.copy_into_cache("tiny-hand", path).is_file()
    _entry("tiny-hand2", None, "ffffffff")
    with pytest.raises(W.WeightsError):
        W.copy_into_cache("tiny-hand2", path)


def test_prefix_checked_once_then_the_full_digest_is_pinned(home, remote):
    """Upstream publishes 8 hex digits; after the first download every use checks all 64."""
    path, digest = remote
    _entry("tiny-pin", path.as_uri(), digest[:8])
    local = W.resolve("tiny-pin")
    pin = local.with_name(local.name + ".sha256")
    assert pin.read_text().strip() == digest
    # A pinned digest that shares the published prefix but not the rest is refused: only a
    # prefix check would accept the file.
    pin.write_text(digest[:8] + "0" * 56 + "\n")
    with pytest.raises(W.WeightsError, match="differs from the full digest pinned"):
        W.resolve("tiny-pin")
    # Installing by hand pins it as well.
    pin.unlink()
    local.unlink()
    W.copy_into_cache("tiny-pin", path)
    assert pin.read_text().strip() == digest


def test_cli_weights_fetch_for_real_and_offline(home, remote, capsys):
    """`photogen weights fetch` downloads (a file:// URL here), verifies, pins; offline it
    fails with one line naming the file, the URL and where to put it, and caches nothing."""
    from photogen.cli.main import main

    path, digest = remote
    _entry("tiny-cli", path.as_uri(), digest[:8])
    assert main(["weights", "fetch", "tiny-cli"]) == 0
    cached = home / "weights" / "tiny.pth"
    assert capsys.readouterr().out.strip() == str(cached)
    assert cached.read_bytes() == path.read_bytes()
    assert main(["weights", "list"]) == 0
    assert f"tiny-cli{' ' * 20}" in capsys.readouterr().out
    cached.unlink()
    cached.with_name("tiny.pth.sha256").unlink()
    _entry("tiny-cli", (path.parent / "gone.pth").as_uri(), digest[:8])
    assert main(["weights", "fetch", "tiny-cli"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot download tiny.pth" in err[0] and str(cached) in err[0]
    assert not cached.exists() and list(cached.parent.iterdir()) == []


def test_download_over_http_reports_progress_and_checks_the_digest(home, http_file):
    url, digest, size = http_file
    entry = W.register(W.WeightsEntry("http-test", "http-test.pth", url, digest[:8]))
    seen = []
    path = W.download(entry, progress=lambda done, total: seen.append((done, total)))
    assert W.sha256_file(path) == digest
    assert seen[-1] == (size, size) and len(seen) > 1  # progress in bytes, with the total
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    bad = W.register(W.WeightsEntry("http-bad", "http-bad.pth", url, "0" * 8))
    with pytest.raises(W.WeightsError, match="does not match"):
        W.download(bad)
    assert not W.cache_path(bad).exists()


def test_a_cancelled_download_leaves_nothing(home, http_file):
    url, digest, _ = http_file
    entry = W.register(W.WeightsEntry("http-cancel", "http-cancel.pth", url, digest[:8]))

    class CancelledError(Exception):
        pass

    def progress(done, total):
        if done > 100_000:
            raise CancelledError()

    with pytest.raises(CancelledError):
        W.download(entry, progress=progress)
    folder = W.cache_path(entry).parent
    assert not any(folder.iterdir())  # neither the file nor a temporary one


def test_offline_download_is_one_line(home):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    entry = W.register(
        W.WeightsEntry("http-off", "off.pth", f"http://127.0.0.1:{port}/x", "ab" * 4)
    )
    with pytest.raises(W.WeightsError) as info:
        W.download(entry, timeout=5)
    msg = str(info.value)
    assert "\n" not in msg and "cannot download off.pth" in msg and "by hand" in msg


def test_the_named_weights_come_from_one_explicit_list():
    """A fresh interpreter knows every name from core.weights.ENTRY_MODULES without importing
    the modules that define them (no registration by import side effect)."""
    import subprocess
    import sys

    code = ("import sys; from photogen.core.weights import REGISTRY, ENTRY_MODULES;"
            "before = [m for m in ENTRY_MODULES if m in sys.modules];"
            "names = sorted(REGISTRY); print(before, names)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout  # fmt: skip
    assert out.startswith("[] ")  # none of them imported before the first lookup
    for name in ("eccv16", "siggraph17", "colorize-lite", "colorize-lite-hints", "vgg19",
                 "efficientnet_lite0", "pix2pix_facades_label2photo"):  # fmt: skip
        assert f"'{name}'" in out, name
    import importlib

    listed = {e.name for m in W.ENTRY_MODULES for e in importlib.import_module(m).WEIGHTS}
    assert listed <= set(W.REGISTRY)
