import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fnn.data.download
from fnn.data import DatasetError, DownloadError
from fnn.data.checksums import check_digest, file_hexdigest, hexdigest
from fnn.data.download import TIMEOUT, Progress, download, write_atomic


def _sha256_verifier(expected):
    def verify(path):
        check_digest(file_hexdigest(path), expected, name="blob.bin", what="SHA-256")

    return verify


def test_file_url_download(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload" * 1000)
    dest = tmp_path / "out" / "blob.bin"
    expected = hashlib.sha256(b"payload" * 1000).hexdigest()
    assert download([src.as_uri()], dest, verify=_sha256_verifier(expected)) == dest
    assert dest.read_bytes() == b"payload" * 1000
    assert sorted(p.name for p in dest.parent.iterdir()) == ["blob.bin"]


def test_first_mirror_down_second_used(tmp_path, fake_web):
    fake_web.serve("https://b.example/blob.bin", b"abc")
    dest = tmp_path / "blob.bin"
    download(["https://a.example/blob.bin", "https://b.example/blob.bin"], dest)
    assert dest.read_bytes() == b"abc"
    assert [u for u, _ in fake_web.requests] == [
        "https://a.example/blob.bin",
        "https://b.example/blob.bin",
    ]
    assert all(t == TIMEOUT == 10.0 for _, t in fake_web.requests)


def test_checksum_mismatch_tries_next_mirror_and_leaves_nothing(tmp_path, fake_web):
    good = b"the real bytes"
    fake_web.serve("https://bad.example/blob.bin", b"tampered bytes")
    fake_web.serve("https://good.example/blob.bin", good)
    dest = tmp_path / "blob.bin"
    verify = _sha256_verifier(hashlib.sha256(good).hexdigest())
    with pytest.raises(DownloadError) as e:
        download(["https://bad.example/blob.bin"], dest, verify=verify)
    msg = str(e.value)
    assert msg.startswith("blob.bin: could not download from any mirror")
    assert "https://bad.example/blob.bin: blob.bin: checksum mismatch" in msg
    assert hashlib.sha256(b"tampered bytes").hexdigest() in msg
    assert list(tmp_path.iterdir()) == []  # no file, no temporary left behind

    download(["https://bad.example/blob.bin", "https://good.example/blob.bin"], dest, verify=verify)
    assert dest.read_bytes() == good


def test_destination_appears_only_when_complete(tmp_path, fake_web):
    dest = tmp_path / "blob.bin"
    seen = []
    fake_web.on_read = lambda: seen.append(dest.exists())
    fake_web.serve("https://a.example/blob.bin", b"x" * 200_000)
    download(["https://a.example/blob.bin"], dest)
    assert seen and not any(seen)
    assert dest.stat().st_size == 200_000


def test_failed_download_keeps_previous_file(tmp_path, fake_web):
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    fake_web.serve("https://a.example/blob.bin", b"new")
    with pytest.raises(DownloadError):
        download(["https://a.example/blob.bin"], dest, verify=_sha256_verifier("0" * 64))
    assert dest.read_bytes() == b"old"


def test_offline_reason_in_error(tmp_path, fake_web):
    with pytest.raises(DownloadError, match="https://a.example/x: .*Name or service not known"):
        download(["https://a.example/x"], tmp_path / "x")
    assert isinstance(DownloadError("x"), DatasetError) and isinstance(
        DownloadError("x"), ValueError
    )


def test_connection_closed_early(tmp_path, fake_web, monkeypatch):
    fake_web.serve("https://a.example/blob.bin", b"12345")
    real = fake_web.urlopen

    def short(url, timeout=None):
        resp = real(url, timeout)
        resp.headers["Content-Length"] = "9"
        return resp

    monkeypatch.setattr(fnn.data.download, "_urlopen", short)
    with pytest.raises(DownloadError, match="blob.bin: connection closed after 5 of 9 bytes"):
        download(["https://a.example/blob.bin"], tmp_path / "blob.bin")
    assert list(tmp_path.iterdir()) == []


def test_progress_silent_unless_tty():
    quiet = io.StringIO()
    p = Progress("f.gz", 100, quiet)
    p.update(50)
    p.close()
    assert quiet.getvalue() == ""

    class Tty(io.StringIO):
        def isatty(self):
            return True

    loud = Tty()
    p = Progress("f.gz", 2_000_000, loud)
    p.update(1_000_000)
    p.close()
    assert "Downloading f.gz   50.0%  1.0/2.0 MB" in loud.getvalue()
    assert loud.getvalue().endswith("\n")


def test_write_atomic(tmp_path):
    dest = write_atomic(tmp_path / "sub" / "a.bin", b"123")
    assert dest.read_bytes() == b"123"
    assert [p.name for p in dest.parent.iterdir()] == ["a.bin"]


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_interrupted_download_removes_temp_and_keeps_old(tmp_path, fake_web, exc):
    dest = tmp_path / "blob.bin"
    dest.write_bytes(b"old")
    listings = []

    def on_read():
        listings.append(sorted(p.name for p in tmp_path.iterdir()))
        if len(listings) == 3:  # two 64 KiB chunks are in the temporary file
            raise exc

    fake_web.on_read = on_read
    fake_web.serve("https://a.example/blob.bin", b"x" * 500_000)
    with pytest.raises(exc):
        download(["https://a.example/blob.bin"], dest)
    assert len(listings[2]) == 2 and listings[2][0].startswith(".blob.bin.")
    assert listings[2][0].endswith(".part") and listings[2][1] == "blob.bin"
    assert [p.name for p in tmp_path.iterdir()] == ["blob.bin"]
    assert dest.read_bytes() == b"old"


UMASK_CHILD = """
import os, stat, sys
from pathlib import Path
from fnn.data.download import download, write_atomic

folder = Path(sys.argv[1])
os.umask(0o027)
download([(folder / "src.bin").as_uri()], folder / "out" / "got.bin")
write_atomic(folder / "out" / "put.bin", b"abc")
print(*(oct(stat.S_IMODE((folder / "out" / n).stat().st_mode)) for n in ("got.bin", "put.bin")))
"""


@pytest.mark.skipif(os.name != "posix", reason="POSIX umask")
def test_written_files_follow_umask(tmp_path):
    # umask is process-wide: set it in a child. 0o666 & ~0o027 == 0o640 (not mkstemp's 0600).
    (tmp_path / "src.bin").write_bytes(b"payload")
    root = Path(__file__).resolve().parents[2]
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, "-c", UMASK_CHILD, str(tmp_path)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0o640", "0o640"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["got.bin", "put.bin"]
    assert (tmp_path / "out" / "got.bin").read_bytes() == b"payload"
    assert (tmp_path / "out" / "put.bin").read_bytes() == b"abc"


def test_checksums():
    assert hexdigest(b"abc") == hashlib.sha256(b"abc").hexdigest()
    assert hexdigest(b"abc", "md5") == "900150983cd24fb0d6963f7d28e17f72"
    check_digest("ABC", "abc", name="n", what="MD5")  # hex case does not matter
    with pytest.raises(DatasetError, match="n: checksum mismatch: MD5 is 1, expected 2"):
        check_digest("1", "2", name="n", what="MD5")
