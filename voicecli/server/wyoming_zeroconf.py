"""Zeroconf: advertise the Wyoming server as ``_wyoming._tcp.local.`` so Home Assistant finds it.

Why in the server's event loop: ``AsyncZeroconf`` made inside a running loop uses that loop and
starts no thread of its own, so discovery adds no thread to stop. The ``zeroconf`` package is an
optional extra (``pip install 'voicecli[zeroconf]'``).
"""

from __future__ import annotations

import ipaddress
import socket

from voicecli.core.errors import UsageError

SERVICE = "_wyoming._tcp.local."


def check_available() -> None:
    try:
        import zeroconf  # noqa: F401
    except ImportError:
        raise UsageError(
            "--zeroconf needs the zeroconf package", hint="pip install 'voicecli[zeroconf]'"
        ) from None


def lan_addresses(host: str) -> list[str]:
    """The IPv4 addresses to advertise: ``host`` itself, or every non-loopback one for 0.0.0.0."""
    if host not in ("0.0.0.0", ""):
        return [socket.gethostbyname(host)]
    import ifaddr

    found = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ipaddress.ip_address(ip.ip).is_loopback:
                found.append(ip.ip)
    return found


class Advertiser:
    def __init__(self, name: str, host: str, port: int) -> None:
        self.name, self.host, self.port = name, host, port
        self._zeroconf = None
        self._info = None

    async def start(self) -> None:
        """Register the service; OSError (no multicast) and a LAN without addresses raise
        RuntimeError with a one-line reason."""
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

        addresses = lan_addresses(self.host)
        if not addresses:
            raise RuntimeError("no network address to advertise (is the machine offline?)")
        self._info = AsyncServiceInfo(
            SERVICE,
            f"{self.name}.{SERVICE}",
            addresses=[socket.inet_aton(a) for a in addresses],
            port=self.port,
            server=f"{socket.gethostname()}.local.",
        )
        try:
            self._zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
            await self._zeroconf.async_register_service(self._info)
        except OSError as exc:
            await self.stop()
            raise RuntimeError(f"multicast is not available here: {exc.strerror or exc}") from None

    async def stop(self) -> None:
        if self._zeroconf is not None:
            if self._info is not None:
                await self._zeroconf.async_unregister_all_services()
            await self._zeroconf.async_close()
            self._zeroconf = None
