import torch

from photogen.core.gallery import Section, Tile, plot_losses, write_gallery
from photogen.core.image import read_image, save_image


def test_gallery_links_images_relatively(tmp_path):
    img = save_image(torch.rand(1, 3, 8, 8), tmp_path / "pics" / "a.png")
    plot = plot_losses({"loss": [3.0, 2.0, 1.0]}, tmp_path / "loss.png")
    assert read_image(plot).shape[1] == 3
    page = write_gallery(
        tmp_path / "index.html",
        "T <&>",
        [Section("s", [Tile(img, "cap"), Tile(plot, "loss")], {"steps": 3})],
    )
    html = page.read_text()
    assert "src='pics/a.png'" in html and "src='loss.png'" in html
    assert "T &lt;&amp;&gt;" in html and "<td>steps</td><td>3</td>" in html


def test_gallery_paths_relative_to_the_sheet_whatever_the_working_directory(tmp_path, monkeypatch):
    sheet_dir = tmp_path / "run"
    save_image(torch.rand(1, 3, 8, 8), sheet_dir / "a.png")
    other = tmp_path / "elsewhere"
    save_image(torch.rand(1, 3, 8, 8), other / "out" / "b.png")
    monkeypatch.chdir(other)
    page = write_gallery(sheet_dir / "index.html", "t",
                         [Section("s", [Tile("a.png"), Tile("out/b.png")])])  # fmt: skip
    html = page.read_text()
    assert "src='a.png'" in html  # relative to the sheet
    assert f"src='{(other / 'out' / 'b.png').as_uri()}'" in html  # relative to the cwd
