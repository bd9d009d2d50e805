"""Data-driven matching (Torralba, Fergus, Freeman 2008, "80 million tiny images"): 32x32
images, D_ssd / D_warp, a database of memory-mapped shards + SQLite catalogue, a PCA shortlist
re-ranked exactly, label voting and sibling colorization."""
