package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/canopylive/canopy/origin"
	"github.com/canopylive/canopy/proto"
)

func runKeygen(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "origin.key", "where to write the private key (PEM, mode 0600; never overwritten)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	priv, err := origin.GenerateKey(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\npublic key: %s\n", *out, proto.EncodePublicKey(publicKey(priv)))
	return nil
}
