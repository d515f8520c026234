"""A bulk-encoding worker: run as `python -m search.encode_worker SPEC`, one per core.

A separate program rather than multiprocessing, so that starting workers never
re-runs the caller's main script. SPEC is the encoder (`MAATWERK_ENCODER`'s value).
Protocol on stdin/stdout: a request is an 8-byte little-endian length and that many bytes
of a JSON list of texts; the answer is an 8-byte length and the float32 vectors
(len(texts) x dim, C order), the bits `encoder.encode` gives in the parent.
"""

from __future__ import annotations

import json
import sys

from search.encoders import get_encoder


def _read_exactly(stream, n: int) -> bytes:
    data = stream.read(n)
    if len(data) != n:
        raise EOFError
    return data


def main() -> None:
    encoder = get_encoder(sys.argv[1])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            size = int.from_bytes(_read_exactly(stdin, 8), "little")
        except EOFError:
            return  # the parent closed our stdin: done
        texts = json.loads(_read_exactly(stdin, size))
        vectors = encoder.encode(texts).astype("<f4", copy=False).tobytes()
        stdout.write(len(vectors).to_bytes(8, "little"))
        stdout.write(vectors)
        stdout.flush()


if __name__ == "__main__":
    main()
