"""Django's Redis cache, keeping one client per connection pool.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every
cache call, and that constructor fills a table of some 300 response callbacks each time: measured
here, about as long as the round trip to a local Redis. The throttles make two to four cache calls on
every API request. A ``redis.Redis`` is safe to share between threads (its pool hands out the
connections, and after a fork the pool starts afresh), so one per pool is enough.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        base: Any = self  # the parent's attributes are not in django-stubs
        index = base._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in base._pools:
                base._pools[index] = base._pool_class.from_url(base._servers[index], **base._pool_options)
            client = self._clients[index] = base._client(connection_pool=base._pools[index])
        return client


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
