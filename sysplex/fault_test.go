package sysplex

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFault(t *testing.T) {
	cases := []struct {
		err  error
		want Fault
	}{
		{context.DeadlineExceeded, FaultNoAnswer},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), FaultNoAnswer},
		{status.Error(codes.DeadlineExceeded, "context deadline exceeded"), FaultNoAnswer},
		{rpctypes.ErrGRPCNoLeader, FaultNoLeader},
		{rpctypes.ErrNoLeader, FaultNoLeader},
		{fmt.Errorf("dial tcp: %w", syscall.ECONNREFUSED), FaultUnreachable},
		{status.Error(codes.Unavailable, "connection refused"), FaultUnreachable},
		{rpctypes.ErrGRPCPermissionDenied, FaultDenied},
		{status.Error(codes.Unauthenticated, "no token"), FaultDenied},
		{errors.New("something else"), FaultOther},
	}
	for _, c := range cases {
		if got := (&ErrStore{Err: c.err}).Fault(); got != c.want {
			t.Errorf("Fault(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
