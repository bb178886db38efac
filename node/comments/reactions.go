package comments

import (
	"fmt"
	"slices"
)

// ReactionKinds returns the reaction kinds a viewer can send, in display
// order.
func ReactionKinds() []string {
	return []string{"like", "love", "laugh", "wow", "clap"}
}

// errBadReaction: a reaction kind outside ReactionKinds.
var errBadReaction = fmt.Errorf("%w: unknown reaction kind", ErrInvalid)

// ValidateReaction checks that kind is one of ReactionKinds.
func ValidateReaction(kind string) error {
	if !slices.Contains(ReactionKinds(), kind) {
		return fmt.Errorf("%w %q (one of %v)", errBadReaction, truncate(kind, 40), ReactionKinds())
	}
	return nil
}
