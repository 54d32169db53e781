"""A request iterator for client- and bidi-streaming calls, shared by the interop and reflection clients."""

import queue


class RequestPipe:
    """A request iterator the test feeds by hand; close() half-closes the stream."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._END:
            raise StopIteration
        return item

    def add(self, request):
        self._queue.put(request)

    def close(self):
        self._queue.put(self._END)
