//go:build windows

package keepalive

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// soProtocolInfoW is SO_PROTOCOL_INFOW, which golang.org/x/sys/windows does
// not define: it reads the socket's WSAPROTOCOL_INFOW.
const soProtocolInfoW = 0x2005

// The winsock table must hold Windows' numbers: each line fails to compile
// if one differs from golang.org/x/sys/windows.
var (
	_ = [1]struct{}{}[ipprotoTCP-windows.IPPROTO_TCP]
	_ = [1]struct{}{}[winTCPKeepIdle-windows.TCP_KEEPIDLE]
	_ = [1]struct{}{}[winTCPKeepIdle-windows.TCP_KEEPALIVE]
	_ = [1]struct{}{}[winTCPKeepIntvl-windows.TCP_KEEPINTVL]
	_ = [1]struct{}{}[winTCPKeepCnt-windows.TCP_KEEPCNT]
	_ = [1]struct{}{}[winTCPMaxRT-windows.TCP_MAXRT]
	_ = [1]struct{}{}[winTCPMaxRTMS-windows.TCP_MAXRTMS]
	_ = [1]struct{}{}[winSIOKeepaliveVals-windows.SIO_KEEPALIVE_VALS]
	_ = [1]struct{}{}[unsafe.Sizeof(tcpKeepalive{})-unsafe.Sizeof(windows.TCPKeepalive{})]
)

// support is what this system has, found once when the package is
// initialized.
var support = detectSupport()

// native is the table for this system: Idle and Interval through the
// per-socket options where they exist, else through SIO_KEEPALIVE_VALS;
// Count and UserTimeout only where their options exist, else reported
// missing.
var native = func() *platform {
	p := support.platform()
	return &p
}()

// detectSupport tries each per-socket option on a throwaway TCP socket, as
// Go's net package does (detectWinsock decides). If no socket can be made,
// the Windows build number decides instead. Under Wine, the host it runs on
// is found too: Linux's limits then apply.
func detectSupport() winsockSupport {
	return detectOptions().underWine(wineHost)
}

// detectOptions finds the per-socket options, as detectSupport says.
func detectOptions() winsockSupport {
	socket := func(af int32) (windows.Handle, error) {
		return windows.WSASocket(af, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0, windows.WSA_FLAG_NO_HANDLE_INHERIT)
	}
	s, err := socket(windows.AF_INET)
	if err != nil {
		s, err = socket(windows.AF_INET6)
	}
	if err != nil {
		v := windows.RtlGetVersion()
		return winsockByBuild(v.MajorVersion, v.BuildNumber)
	}
	defer windows.Closesocket(s)
	return detectWinsock(func(opt, value int) error {
		return windows.SetsockoptInt(s, windows.IPPROTO_TCP, opt, value)
	}, windows.WSAENOPROTOOPT)
}

// wineHost is the name of the OS that runs Wine ("Linux"), from ntdll's
// wine_get_host_version; "" on Windows itself.
var wineHost = func() string {
	proc := windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_host_version")
	if proc.Find() != nil {
		return ""
	}
	var sysname, release *byte
	proc.Call(uintptr(unsafe.Pointer(&sysname)), uintptr(unsafe.Pointer(&release)))
	return windows.BytePtrToString(sysname)
}()

// fillDefaults is what the ioctl sends for an Idle or Interval that a Config
// leaves zero: the system's defaults, read once.
var fillDefaults = sync.OnceValue(func() Config {
	c, _ := SystemDefaults() // the documented defaults where unreadable
	return c
})

// checkTCP tells a TCP socket from any other by its protocol info: a stream
// socket of protocol IPPROTO_TCP.
func checkTCP(fd uintptr) error {
	var info windows.WSAProtocolInfo
	n := int32(unsafe.Sizeof(info))
	err := windows.Getsockopt(windows.Handle(fd), windows.SOL_SOCKET, soProtocolInfoW, (*byte)(unsafe.Pointer(&info)), &n)
	switch {
	case errors.Is(err, windows.WSAENOTSOCK):
		// A handle that is no socket at all (a pipe, a file).
		return fmt.Errorf("%w: not a socket", ErrNotTCP)
	case err != nil:
		return &OptionError{Op: "get", Option: "SO_PROTOCOL_INFOW", Err: err}
	}
	if info.SocketType != windows.SOCK_STREAM || info.Protocol != windows.IPPROTO_TCP {
		return fmt.Errorf("%w: socket type %d, protocol %d", ErrNotTCP, info.SocketType, info.Protocol)
	}
	return nil
}

// soKeepAlive is SO_KEEPALIVE, as the generic path sets it.
var soKeepAlive = sockopt{name: "SO_KEEPALIVE", level: windows.SOL_SOCKET, opt: windows.SO_KEEPALIVE}

// sysSockcalls is the system-call layer of Windows: setsockopt and
// getsockopt of an int, and SIO_KEEPALIVE_VALS for the knobs the table
// sets together.
type sysSockcalls struct{}

func (sysSockcalls) set(fd uintptr, o *sockopt, value int) error {
	return windows.SetsockoptInt(windows.Handle(fd), o.level, o.opt, value)
}

func (sysSockcalls) get(fd uintptr, o *sockopt) (int, error) {
	return windows.GetsockoptInt(windows.Handle(fd), o.level, o.opt)
}

// setTogether sends Idle and Interval with SIO_KEEPALIVE_VALS, which also
// switches keepalive on. The ioctl takes both: one that v leaves zero is
// sent as the system default, since the socket's current value cannot be
// read.
func (sysSockcalls) setTogether(fd uintptr, _ *platform, v values) error {
	ka, _ := keepaliveVals(&v, fillDefaults())
	var n uint32
	err := windows.WSAIoctl(windows.Handle(fd), windows.SIO_KEEPALIVE_VALS, (*byte)(unsafe.Pointer(&ka)), uint32(unsafe.Sizeof(ka)), nil, 0, &n, nil, 0)
	if err != nil {
		return &OptionError{Op: "set", Option: "SIO_KEEPALIVE_VALS", Value: int(ka.keepalivetime), Err: err}
	}
	return nil
}

// optionMissing reports an OS error that means the socket has no such
// option, as opposed to refusing its value.
func optionMissing(err error) bool {
	return errors.Is(err, windows.WSAENOPROTOOPT) || errors.Is(err, windows.WSAEOPNOTSUPP) ||
		errors.Is(err, errors.ErrUnsupported)
}

// isTimedOut reports the error of a connection the kernel dropped because
// the peer stopped answering: WSAETIMEDOUT, which is not syscall.ETIMEDOUT
// on Windows (that one is matched too, for errors made up by Go code), or
// WSAENETRESET, which recv and send return when keepalive found the peer
// gone while the call was in progress (Microsoft's recv and send
// documentation); or an unreachable that arrived before the kernel gave up.
func isTimedOut(err error) bool {
	return errors.Is(err, windows.WSAETIMEDOUT) || errors.Is(err, syscall.ETIMEDOUT) ||
		errors.Is(err, windows.WSAENETRESET) ||
		errors.Is(err, windows.WSAEHOSTUNREACH) || errors.Is(err, windows.WSAENETUNREACH)
}
