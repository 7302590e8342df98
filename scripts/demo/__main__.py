"""Entry point: ``python -m scripts.demo`` (what ``make demo`` runs)."""

from __future__ import annotations

from scripts.demo.app import main

if __name__ == "__main__":
    main()
