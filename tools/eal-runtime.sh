# Sourced by the scripts that run DPDK programs with a --file-prefix of
# their own. The EAL keeps a prefix's shared files (config, memory
# segment arrays: 6 MB for -m 512, the telemetry socket) in a runtime
# directory and leaves them there at exit, so a prefix per run would
# leave a directory per run, in /run: a tmpfs, memory, on most systems.

# eal_runtime_remove PREFIX...: removes their runtime directories, where
# the EAL puts them (/var/run/dpdk for root, else under XDG_RUNTIME_DIR
# or /tmp). For programs that have ended.
eal_runtime_remove() {
	local base=/var/run
	[ "$(id -u)" = 0 ] || base=${XDG_RUNTIME_DIR:-/tmp}
	for prefix; do
		rm -rf "$base/dpdk/$prefix"
	done
}
