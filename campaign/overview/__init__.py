"""The association's home, its campaign list and each campaign's hub page: the pages
that show every feature's state side by side, so they sit above the features."""
