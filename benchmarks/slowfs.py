# A FUSE filesystem standing for a slow disk, for benchmarks/slow-stat.mjs: N files f0..f{N-1}
# of 4 KiB whose every lookup/getattr sleeps DELAY seconds (no attribute caching), served by
# libfuse's threads. Usage (root, python3-fusepy): python3 slowfs.py MOUNTPOINT N DELAY
import errno
import stat
import sys
import time

from fusepy import FUSE, FuseOSError, Operations

N = int(sys.argv[2])
DELAY = float(sys.argv[3])


class Slow(Operations):
    def getattr(self, path, fh=None):
        if path == '/':
            return dict(st_mode=stat.S_IFDIR | 0o755, st_nlink=2)
        name = path[1:]
        if name.startswith('f') and name[1:].isdigit() and int(name[1:]) < N:
            time.sleep(DELAY)
            return dict(st_mode=stat.S_IFREG | 0o644, st_nlink=1, st_size=4096)
        raise FuseOSError(errno.ENOENT)

    def readdir(self, path, fh):
        return ['.', '..'] + ['f%d' % i for i in range(N)]


FUSE(Slow(), sys.argv[1], foreground=True, nothreads=False, attr_timeout=0, entry_timeout=0)
