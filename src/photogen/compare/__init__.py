"""Cross-method comparisons: run several methods on one input and write one sheet.

Like ``cli``, this layer sits above the methods and may import them; methods never import it.
"""
