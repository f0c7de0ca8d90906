#!/usr/bin/env python3
"""Writes archives a model package must never be: hostile_archives.py DIR PACKAGE

Each is the valid PACKAGE (a tar.gz from model.package) with one thing added or changed, so that
everything else about it checks out:
  zip-slip.tar.gz   an entry named ../escaped.txt
  absolute.tar.gz   an entry named /tmp/…/absolute.txt (under DIR)
  symlink.tar.gz    a symbolic link pointing out of the folder
  hardlink.tar.gz   a hard link to /etc/passwd
  device.tar.gz     a character device
  duplicate.tar.gz  model.json twice
  bomb.tar.gz       a 300 MB entry of zeros (compresses to well under 1 MB)
  zip-slip.zip      a zip with an entry named ../escaped-zip.txt
Prints the names written, one per line.
"""
import io
import os
import sys
import tarfile
import zipfile

directory, package = sys.argv[1], sys.argv[2]
with tarfile.open(package, "r:gz") as source:
    members = [(member, source.extractfile(member).read()) for member in source.getmembers()]


def write(name, extra):
    with tarfile.open(os.path.join(directory, name), "w:gz") as target:
        for member, data in members:
            target.addfile(member, io.BytesIO(data))
        for member, data in extra:
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    print(name)


def entry(name, data=b"x", kind=tarfile.REGTYPE, link=""):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.linkname = link
    member.size = len(data) if kind == tarfile.REGTYPE else 0
    member.mode = 0o644
    return member, data if kind == tarfile.REGTYPE else None


write("zip-slip.tar.gz", [entry("../escaped.txt")])
write("absolute.tar.gz", [entry(os.path.join(os.path.abspath(directory), "absolute.txt"))])
write("symlink.tar.gz", [entry("link", kind=tarfile.SYMTYPE, link="../../etc/passwd")])
write("hardlink.tar.gz", [entry("hard", kind=tarfile.LNKTYPE, link="/etc/passwd")])
device = tarfile.TarInfo("device")
device.type = tarfile.CHRTYPE
device.devmajor, device.devminor = 1, 3
write("device.tar.gz", [(device, None)])
write("duplicate.tar.gz", [entry("model.json", b"{}")])


class Zeros(io.RawIOBase):
    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def readinto(self, buffer):
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


with tarfile.open(os.path.join(directory, "bomb.tar.gz"), "w:gz") as target:
    bomb = tarfile.TarInfo("bomb.bin")
    bomb.size = 300 * 1000 * 1000
    target.addfile(bomb, io.BufferedReader(Zeros(bomb.size)))
print("bomb.tar.gz")
with zipfile.ZipFile(os.path.join(directory, "zip-slip.zip"), "w") as target:
    target.writestr("model.json", "{}")
    target.writestr("../escaped-zip.txt", "x")
print("zip-slip.zip")
