# Sourced by the scripts that need a redis-server of their own: on a
# unix socket in a directory of theirs, without persistence, stopped by
# its PID (never by name).

redis_pid=

# redis_start DIR [REDIS-SERVER OPTIONS...]: starts it on DIR/redis.sock
# (options may add a TCP port) and waits until it answers.
redis_start() {
	local dir=$1
	shift
	${REDIS_CPU:+taskset -c "$REDIS_CPU"} redis-server --port 0 \
		--unixsocket "$dir/redis.sock" --save '' --appendonly no --dir "$dir" \
		"$@" >/dev/null &
	redis_pid=$!
	for _ in $(seq 200); do
		redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "redis-server did not start" >&2
	return 1
}

redis_stop() {
	if [ -n "$redis_pid" ]; then
		kill "$redis_pid" 2>/dev/null
		wait "$redis_pid" 2>/dev/null
		redis_pid=
	fi
	return 0
}
