// Command pause is the process of every pod sandbox on the node tier: it keeps the pod's namespaces alive, reaps
// the zombies that end up with it as their parent (it is PID 1 of the pod when the PID namespace is shared), and
// exits at once on SIGTERM or SIGINT so the kubelet can tear a sandbox down without waiting out a grace period.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if os.Getpid() != 1 {
		// Still fine: containerd runs it as PID 1 of its own namespace; say so for anyone running it by hand.
		os.Stderr.WriteString("pause: not PID 1; reaping only its own children\n")
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		reap()
	}
}

// reap collects every child that has exited, without blocking on the ones still running.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}
