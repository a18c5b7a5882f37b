"""Run a hot loop where CPython's frame stack has room for it.

CPython (3.11 and later) keeps Python frames on a per-thread stack made of 16 KiB chunks, and frees a chunk
as soon as the frame at its start returns. A function called many times from a frame near the end of a
chunk therefore has a chunk mapped and unmapped on every call: a listing page of 100 rows took 51-58 ms or
67-128 ms depending only on how deep the rows happened to be rendered (benchmarks/notes.md, 2026-12-04).

``call_with_stack_room`` calls a function from a frame larger than a chunk. That frame gets a chunk of its own,
sized to fit it (chunks double from 16 KiB), so the function starts with about 15 KiB of stack for itself
and what it calls, more than a table row's calls take: one 32 KiB chunk mapped a page instead of one at each
call. On other Pythons it is a plain call.
"""

#: Pointer slots a chunk holds (16 KiB of 8-byte pointers); the calling frame has more local variables.
_CHUNK_SLOTS = 16 * 1024 // 8
_LOCAL_NAMES = ", ".join(f"_slot{index}" for index in range(_CHUNK_SLOTS + 32))

# The locals are never assigned (the branch is never taken), but the compiler still makes room for each in
# the frame, which is all that matters here.
_SOURCE = f"""
def call_with_stack_room(function, *args, **kwargs):
    if False:
        {_LOCAL_NAMES} = ()
    return function(*args, **kwargs)
"""

_namespace = {}
exec(compile(_SOURCE, "<wagtail_customers.stack_room>", "exec"), _namespace)  # noqa: S102 - our own fixed source, no input in it
call_with_stack_room = _namespace["call_with_stack_room"]
call_with_stack_room.__doc__ = "``function(*args, **kwargs)``, called from a frame with a stack chunk of its own."
call_with_stack_room.__module__ = __name__
