"""Operations: where every certification is and what it waits for, stuck and breached
work, failing steps, parked messages of every service, timelines; the API and `wwc ops`."""
