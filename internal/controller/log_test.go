package controller_test

import (
	"context"

	"github.com/go-logr/logr"
)

func logrContext(ctx context.Context, l logr.Logger) context.Context { return logr.NewContext(ctx, l) }
