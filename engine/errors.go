package engine

import "fmt"

// ImageMissingError says a node lacks the image a container needs: with
// no registry, images reach nodes only by `lvc image load`.
type ImageMissingError struct {
	Image, Node string
}

func (e *ImageMissingError) Error() string {
	return fmt.Sprintf("image %s is not on swarm node %s: distribute it with lvc image load %s", e.Image, e.Node, e.Image)
}
