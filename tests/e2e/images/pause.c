/*
 * pause: the process that holds a pod's namespaces (the "infra" or sandbox
 * container). Built with `gcc -static` by tests/e2e/build.sh and imported as a
 * one-file image, because no registry (and so no registry.k8s.io/pause) is
 * reachable on the test machines.
 *
 * As PID 1 of the pod it must: sleep forever without using CPU, reap the
 * zombies of processes that share its PID namespace, and exit on SIGINT or
 * SIGTERM (containerd stops the sandbox with SIGTERM, then SIGKILL).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
  (void)sig;
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("pause (scalecache tests/e2e)");
    return 0;
  }
  if (getpid() != 1) fputs("pause: warning: not running as PID 1\n", stderr);

  struct sigaction stop = {0};
  stop.sa_handler = on_stop;
  sigemptyset(&stop.sa_mask);
  if (sigaction(SIGINT, &stop, NULL) < 0 || sigaction(SIGTERM, &stop, NULL) < 0) return 1;

  struct sigaction child = {0};
  child.sa_handler = on_child;
  sigemptyset(&child.sa_mask);
  child.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &child, NULL) < 0) return 2;

  for (;;) pause();
}
