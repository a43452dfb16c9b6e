// Command composev2 loads compose files the way `docker compose` (v2) does,
// through compose-spec/compose-go with its JSON-schema validation, and prints
// one line per service: name, image, replicas. Exit 1 when a file is invalid.
// tests/compose/run.sh uses it to check compose.yaml against Compose v2 while
// the stack itself runs with Debian's docker-compose 1.29.
//
// Usage: go run . FILE...
package main

import (
	"context"
	"fmt"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: composev2 FILE...")
		os.Exit(2)
	}
	opts, err := cli.NewProjectOptions(os.Args[1:], cli.WithOsEnv, cli.WithName("composev2check"))
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	names := project.ServiceNames()
	sort.Strings(names)
	for _, name := range names {
		s := project.Services[name]
		replicas := 1
		if s.Deploy != nil && s.Deploy.Replicas != nil {
			replicas = *s.Deploy.Replicas
		}
		fmt.Printf("%s %s %d\n", name, s.Image, replicas)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "invalid for compose v2:", err)
	os.Exit(1)
}
