"""The seccomp filter of every student kernel: the system calls it may not make.

The grader builds the filter once with libseccomp (through pyseccomp) and compiles it into a
classic BPF program (`bpf_program`). bubblewrap loads it into a cold kernel (`bwrap --seccomp
FD`); a warm kernel loads it itself (course/kernel_zygote.py, `_load_syscall_filter`) after its
namespaces and mounts are set up and no_new_privs is on, before ipykernel starts. Every process
and thread the kernel starts inherits it, and no process can remove it.

Denied with EPERM (Python raises PermissionError), each because the sandbox's limits do not
hold without it:

- namespaces and mounts: `unshare`, `setns`, `clone` with any CLONE_NEW* flag, `mount`,
  `umount2`, `pivot_root`, `chroot` and the new mount API (`fsopen`, `fsconfig`, `fsmount`,
  `fspick`, `move_mount`, `open_tree`, `mount_setattr`). In a user namespace of its own a
  kernel may mount a tmpfs with no size limit: host memory past `workdir_bytes` and
  `tmp_bytes`.
- memory-backed files: `memfd_create`, `memfd_secret`, and System V shared memory and message
  queues (`shmget`, `msgget`). Never mapped (or detached), they are outside RLIMIT_AS
  (`memory_bytes`) and in no process's memory; RLIMIT_FSIZE bounds each memfd, not their number.
- network sockets: `socket` for AF_INET and AF_INET6. The kernel has no network (it talks to the
  grader over Unix sockets); a cold kernel's loopback is up, and what TCP buffers hold there
  counts in the host's TCP memory, which every connection of the machine shares.
- socket buffer sizes: `setsockopt` of SO_SNDBUF, SO_RCVBUF and their *FORCE variants is
  ignored (it returns success, the socket keeps the system's default size). What a socket's
  buffers hold is memory outside memory_bytes; at the default size (net.core.wmem_default) the
  kernel's open-file limit (`open_files`) bounds it, where SO_SNDBUF up to net.core.wmem_max
  would let each Unix socket pair hold 16 MiB.
- keyrings: `keyctl`, `add_key`, `request_key`. A cold kernel shares the grader's session
  keyring when the grader has one (a systemd service, a pam_keyinit login).
- other processes and the kernel's internals: `ptrace`, `process_vm_readv`,
  `process_vm_writev`, `bpf`, `perf_event_open`, `userfaultfd` (a tool of kernel exploits) and
  `io_uring_setup`/`_enter`/`_register` (its operations never pass through this filter).
- administration, never needed by a notebook: `kexec_load`, `kexec_file_load`, `init_module`,
  `finit_module`, `delete_module`, `reboot`, `swapon`, `swapoff`, `acct`, `quotactl`,
  `quotactl_fd`, `open_by_handle_at`, `name_to_handle_at`, `iopl`, `ioperm`, `syslog`,
  `vhangup`, `sethostname`, `setdomainname`, `settimeofday`, `clock_settime`, `clock_adjtime`,
  `adjtimex`.

`clone3` fails with ENOSYS: its flags are in memory, which a seccomp filter cannot read; glibc
(threads, posix_spawn) and Python (fork) then use `clone`, whose flags it can. Everything else
is allowed. A call of another ABI than the native one (x32 numbers on x86-64, i386 calls through
`int 0x80`) kills the process: the filter knows the native calls only.

Only x86-64 and arm64 are supported (there `clone`'s flags are its first argument).
"""
import functools
import tempfile

DENIED = (
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot",
    "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
    "memfd_create", "memfd_secret", "shmget", "msgget",
    "keyctl", "add_key", "request_key",
    "ptrace", "process_vm_readv", "process_vm_writev", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "open_by_handle_at",
    "name_to_handle_at", "iopl", "ioperm", "syslog", "vhangup", "sethostname", "setdomainname",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
)
# CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
# CLONE_NEWNET (CLONE_NEWTIME, 0x80, is clone's exit signal byte: only unshare and clone3 take it)
CLONE_NEW_FLAGS = (0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000)
INET_FAMILIES = (2, 10)  # AF_INET, AF_INET6
SOL_SOCKET = 1
BUFFER_SIZE_OPTIONS = (7, 8, 32, 33)  # SO_SNDBUF, SO_RCVBUF, SO_SNDBUFFORCE, SO_RCVBUFFORCE
EPERM, ENOSYS = 1, 38
INSTALL_HINT = ("libseccomp is not installed (Debian/Ubuntu: `sudo apt-get install libseccomp2`; "
                "Fedora: `sudo dnf install libseccomp`), or grade without the system-call filter: "
                "`c.SandboxedKernelManager.seccomp = False`.")


def problem():
    """Why the filter cannot be built here (libseccomp or pyseccomp missing), or None."""
    try:
        import pyseccomp  # noqa: F401 (raises RuntimeError when libseccomp.so is missing)
    except (ImportError, RuntimeError):
        return INSTALL_HINT
    return None


@functools.cache
def bpf_program():
    """The filter as a classic BPF program for this machine's architecture: bytes, a whole
    number of 8-byte `struct sock_filter` instructions, as `bwrap --seccomp` and
    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) take it.

    Raises RuntimeError when libseccomp is missing (see `problem`), ValueError when it does not
    know a system call of DENIED (libseccomp older than 2.5.2)."""
    import pyseccomp as seccomp

    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    rules.set_attr(seccomp.Attr.ACT_BADARCH, seccomp.KILL_PROCESS)
    for name in DENIED:
        if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) == -1:
            raise ValueError(f"libseccomp does not know the system call {name}: upgrade it")
        rules.add_rule(seccomp.ERRNO(EPERM), name)
    for flag in CLONE_NEW_FLAGS:
        rules.add_rule(seccomp.ERRNO(EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    rules.add_rule(seccomp.ERRNO(ENOSYS), "clone3")
    for family in INET_FAMILIES:
        rules.add_rule(seccomp.ERRNO(EPERM), "socket", seccomp.Arg(0, seccomp.EQ, family))
    for option in BUFFER_SIZE_OPTIONS:  # ERRNO(0): the call returns success and does nothing
        rules.add_rule(seccomp.ERRNO(0), "setsockopt", seccomp.Arg(1, seccomp.EQ, SOL_SOCKET),
                       seccomp.Arg(2, seccomp.EQ, option))
    with tempfile.TemporaryFile() as program:
        rules.export_bpf(program)
        program.seek(0)
        return program.read()


def program_file():
    """A new unnamed file holding `bpf_program()`, read from its start: its descriptor is what
    `bwrap --seccomp FD` reads. The caller closes it."""
    program = tempfile.TemporaryFile()
    program.write(bpf_program())
    program.seek(0)
    return program
