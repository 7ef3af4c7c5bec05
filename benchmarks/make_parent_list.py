"""The largest parents' list the upload accepts: 10,000 distinct addresses as long as
addresses go, each twice (20,000 rows), padded to just under 5 MB."""

from __future__ import annotations

from campaign.delivery import parents


def largest_parent_list() -> bytes:
    distinct = [f"{'p' * 58}{n:06d}@{'d' * 63}.{'e' * 63}.{'f' * 50}.org"
                for n in range(parents.MAX_ADDRESSES)]  # fmt: skip
    rows = [f"{'x' * 10},{address}" for address in distinct * 2]
    content = ("Name,Email\n" + "\n".join(rows) + "\n").encode()
    return content.replace(
        b"x" * 10, b"x" * (10 + (parents.MAX_LIST_BYTES - len(content)) // len(rows))
    )
