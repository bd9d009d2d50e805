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
