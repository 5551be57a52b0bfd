package engine

import (
	"errors"
	"fmt"
)

// Errors a Runtime wraps for causes that no retry fixes until the manifest
// or the host changes (detect with errors.Is): the reconciler reports them
// as Stalled instead of retrying blindly.
var (
	ErrImageMissing = errors.New("image missing")
	ErrMountSource  = errors.New("bind mount source missing")
	ErrPlacement    = errors.New("placement cannot be met")
)

// ImageMissingError says a node lacks the image a container needs: with
// no registry, images reach nodes only by `lvc image load`.
type ImageMissingError struct {
	Image, Node string
}

func (e *ImageMissingError) Error() string {
	return fmt.Sprintf("image %s is not on swarm node %s: distribute it with lvc image load %s", e.Image, e.Node, e.Image)
}

// Is makes an ImageMissingError an ErrImageMissing.
func (e *ImageMissingError) Is(target error) bool { return target == ErrImageMissing }
