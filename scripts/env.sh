# shellcheck shell=bash
# Sourced by the scripts in scripts/ and bench/: puts the Swift toolchain on
# PATH when it is installed but not on PATH yet (fresh machines keep it in
# /opt/swift). Not meant to be executed.
if ! command -v swift >/dev/null 2>&1; then
    for _swift_bin in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
        if [ -x "$_swift_bin/swift" ]; then
            PATH="$_swift_bin:$PATH"
            export PATH
            break
        fi
    done
    unset _swift_bin
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: swift is not on PATH and not in /opt/swift/usr/bin; install the Swift 6 toolchain" >&2
    exit 1
fi
